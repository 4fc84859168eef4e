"""The HTTP design's unit tests against a local http.server that answers like the sidecar's
ingest (202 {"accepted","rejected","errors"}, 400, 413, 503): the protocol v1 mapping, batch
splitting, rejects, retries, the spool file, the queue bound, the dispatch of ``Monitored`` and
the warnings about unknown options. The end-to-end ones are in test_http_real_sidecar."""
import json
import os
import tempfile
import threading
import unittest
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import monitoring_sdk
from monitoring_sdk import (AppRef, JobMonitored, Monitored, Monitoring, SidecarEmitter, SignalboxOptionWarning,
                            TcpMonitored, current_job)
from monitoring_sdk.emitter import _FileSpool
from tests.support import poll


class FakeIngest:
    """Records every posted line; ``answer(lines) -> (status, body dict)`` decides the reply."""

    def __init__(self):
        self.lines = []
        self.posts = []
        self.gets = 0
        self.answer = lambda lines: (202, {"accepted": len(lines), "rejected": 0, "errors": []})
        self.gate = None  # a threading.Event the handler waits for before answering
        self.arrived = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.gets += 1
                self._send(200 if self.path == "/v1/health" else 404, {"status": "UP"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                lines = [json.loads(l) for l in body.splitlines() if l.strip()]
                fake.arrived.set()
                if fake.gate is not None:
                    fake.gate.wait(30)
                if self.path != "/v1/events/batch":
                    self._send(404, {"error": "no such path"})
                    return
                status, reply = fake.answer(lines)
                fake.posts.append((status, len(lines)))
                if status in (200, 202):
                    n = reply.get("accepted", len(lines))
                    fake.lines.extend(lines[:n] if not reply.get("rejected") else
                                      [l for i, l in enumerate(lines) if i not in reply.get("_bad", ())])
                self._send(status, reply)

            def _send(self, status, reply):
                data = json.dumps({k: v for k, v in reply.items() if not k.startswith("_")}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def event(i, src="unit"):
    return {"v": 1, "src": src, "ts": 1700000000000 + i, "type": "event", "data": {"level": "info", "msg": "n=%d" % i}}


class EmitterTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeIngest()
        self.addCleanup(self.fake.close)
        self.tmp = tempfile.mkdtemp(prefix="signalbox-py-emitter-")

    def emitter(self, **kw):
        kw.setdefault("spool_path", os.path.join(self.tmp, "spool.ndjson"))
        e = SidecarEmitter(base_url=kw.pop("base_url", self.fake.url), backoff_initial=0.02, backoff_max=0.2, **kw)
        self.addCleanup(e.close, 0.2)
        return e

    def msgs(self):
        return [m["data"]["msg"] for m in self.fake.lines]

    def test_the_environment_gives_the_url_and_the_site(self):
        e = SidecarEmitter(env={"SIDECAR_URL": self.fake.url + "/"}, spool_path=False)
        self.addCleanup(e.close, 0.2)
        self.assertEqual(self.fake.url, e.base_url)
        with mock.patch.dict(os.environ, {"SITE_ID": "fab9"}):
            with Monitored(app=AppRef(name="env-app"), entity_type="job", emitter=e):
                pass
        self.assertTrue(e.flush(10))
        self.assertEqual({"fab9"}, {m["ctx"]["site_id"] for m in self.fake.lines})
        self.assertEqual("http://127.0.0.1:17001", SidecarEmitter(env={}, spool_path=False).base_url)

    def test_a_job_maps_onto_protocol_v1(self):
        e = self.emitter()
        app = AppRef(app_id=uuid.UUID(int=7), name="mapper", version="3.1")
        with Monitored(site_id="fab1", app=app, entity_type="job", business_key="b-1", emitter=e,
                       metadata={"lot": "L7"}) as job:
            self.assertIs(job, current_job())
            job.tick({"step": "read"})
            job.progress(60, "writing")
            with Monitored(site_id="fab1", app=app, entity_type="subjob", business_key="b-1", sub_key="s",
                           emitter=e) as sub:
                self.assertIs(sub, current_job())
            self.assertIs(job, current_job())
        self.assertIsNone(current_job())
        self.assertTrue(e.flush(10))
        lines = self.fake.lines
        self.assertEqual(["progress", "progress", "progress", "progress", "progress", "span", "progress", "span"],
                         [m["type"] for m in lines])
        for m in lines:
            self.assertEqual((1, "mapper", job.trace_id), (m["v"], m["src"], m["tid"]))
            self.assertIsInstance(m["ts"], int)
        self.assertEqual(uuid.UUID(job.trace_id), job.entity_id)  # a root job's trace is its own id
        ctx = lines[0]["ctx"]
        self.assertEqual({"site_id": "fab1", "app_id": str(uuid.UUID(int=7)), "app_version": "3.1",
                          "entity_type": "job", "entity_id": str(job.entity_id), "business_key": "b-1"}, ctx)
        self.assertEqual({"job_id": str(job.entity_id), "percent": 0, "status": "started", "metadata": {"lot": "L7"}},
                         lines[0]["data"])
        self.assertEqual({"job_id": str(job.entity_id), "percent": 0, "status": "running",
                          "metadata": {"step": "read"}}, lines[1]["data"])
        self.assertEqual((60, "writing"), (lines[2]["data"]["percent"], lines[2]["data"]["status"]))
        self.assertEqual((sub.span_id, job.span_id), (lines[3]["sid"], lines[3]["pid"]))
        self.assertEqual(str(job.entity_id), lines[3]["ctx"]["parent_entity_id"])
        self.assertEqual("subjob:b-1/s", lines[5]["data"]["name"])
        span = lines[7]["data"]
        self.assertEqual(("job:b-1", "ok", "L7", "succeeded"),
                         (span["name"], span["status"], span["attrs"]["lot"], span["attrs"]["result"]))
        for key in ("duration_s", "cpu_user_s", "cpu_system_s", "mem_max_mb", "mem_rss_mb"):
            self.assertIsInstance(span["attrs"][key], (int, float), key)
        self.assertNotIn("pid", lines[7])

    def test_fail_marks_the_job_failed_without_an_exception_and_the_decorator_makes_a_job_per_call(self):
        e = self.emitter()
        app = AppRef(name="deco")

        @Monitored(site_id="s", app=app, entity_type="job", business_key="k", emitter=e)
        def work(x):
            current_job().fail("half the files missing")
            return x * 2

        self.assertEqual(4, work(2))
        self.assertEqual(6, work(3))
        self.assertTrue(e.flush(10))
        spans = [m for m in self.fake.lines if m["type"] == "span"]
        self.assertEqual(2, len(spans))
        self.assertEqual(2, len({m["tid"] for m in spans}))
        self.assertEqual({("error", "half the files missing", "failed")},
                         {(s["data"]["status"], s["data"]["attrs"]["error"], s["data"]["attrs"]["result"]) for s in spans})

    def test_child_env_lets_a_job_in_another_process_continue_the_trace(self):
        e = self.emitter()
        with Monitored(site_id="s", app=AppRef(name="parent"), entity_type="job", emitter=e) as job:
            env = job.child_env({})
        self.assertEqual(self.fake.url, env["SIDECAR_URL"])
        self.assertEqual("s", env["SITE_ID"])
        with mock.patch.dict(os.environ, env):
            with Monitored(site_id="s", app=AppRef(name="child"), entity_type="job", emitter=e) as child:
                pass
        self.assertEqual((job.trace_id, job.span_id), (child.trace_id, child.parent_span_id))

    def test_a_batch_too_large_is_split_and_order_holds(self):
        self.fake.answer = lambda lines: (413, {"error": "too large"}) if len(lines) > 3 else \
            (202, {"accepted": len(lines), "rejected": 0, "errors": []})
        gate = self.fake.gate = threading.Event()
        e = self.emitter()
        e.emit(event(0))
        self.assertTrue(self.fake.arrived.wait(10))
        for i in range(1, 21):  # queued behind the post in flight: taken as one batch of 20
            e.emit(event(i))
        gate.set()
        self.assertTrue(e.flush(10), e.stats())
        self.assertEqual(["n=%d" % i for i in range(21)], self.msgs())
        self.assertIn((413, 20), self.fake.posts)
        self.assertEqual((21, 0), (e.stats()["sent"], e.stats()["rejected"]))

    def test_messages_the_sidecar_rejects_are_counted_and_never_sent_again(self):
        def answer(lines):
            bad = [i for i, l in enumerate(lines) if l["data"]["msg"].endswith("3")]
            if len(bad) == len(lines):
                return 400, {"accepted": 0, "rejected": len(bad), "errors": []}
            return 202, {"accepted": len(lines) - len(bad), "rejected": len(bad), "_bad": bad,
                         "errors": [{"index": i, "reason": "missing_field", "detail": "x"} for i in bad]}
        self.fake.answer = answer
        e = self.emitter()
        e.emit(event(3))  # alone: 400
        self.assertTrue(e.flush(10))
        for i in range(10, 20):
            e.emit(event(i))
        self.assertTrue(e.flush(10))
        self.assertEqual(["n=%d" % i for i in range(10, 20) if i != 13], self.msgs())
        self.assertEqual((9, 2, 0), (e.stats()["sent"], e.stats()["rejected"], e.stats()["spool_pending"]))

    def test_503_spools_and_the_spool_is_replayed_in_order_before_anything_newer(self):
        busy = [True]
        self.fake.answer = lambda lines: (503, {"error": "full"}) if busy[0] else \
            (202, {"accepted": len(lines), "rejected": 0, "errors": []})
        e = self.emitter()
        for i in range(50):
            e.emit(event(i))
        self.assertTrue(poll(lambda: e.stats()["spool_pending"] == 50, timeout=10), e.stats())
        self.assertGreater(os.path.getsize(e.spool_path), 0)
        busy[0] = False
        for i in range(50, 60):
            e.emit(event(i))
        self.assertTrue(e.flush(10), e.stats())
        self.assertEqual(["n=%d" % i for i in range(60)], self.msgs())
        self.assertEqual(0, os.path.getsize(e.spool_path))

    def test_a_full_queue_drops_the_newest_and_counts_them_without_blocking(self):
        gate = self.fake.gate = threading.Event()
        e = self.emitter(queue_size=5)
        e.emit(event(0))
        self.assertTrue(self.fake.arrived.wait(10))  # the sender is stuck in this post
        results = [e.emit(event(i)) for i in range(1, 11)]
        self.assertEqual([True] * 5 + [False] * 5, results)
        self.assertEqual((5, 5, 5), (e.stats()["dropped_queue"], e.stats()["dropped"], e.stats()["queued"]))
        gate.set()
        self.assertTrue(e.flush(10))
        self.assertEqual(["n=%d" % i for i in range(6)], self.msgs())

    def test_a_message_over_the_line_limit_is_rejected_at_once_and_the_rest_flows(self):
        e = self.emitter()
        big = event(1)
        big["data"]["msg"] = "x" * 70000
        self.assertFalse(e.emit(big))
        self.assertTrue(e.emit(event(2)))
        self.assertTrue(e.flush(10))
        self.assertEqual(["n=2"], self.msgs())
        self.assertEqual((1, 1), (e.stats()["rejected"], e.stats()["sent"]))

    def test_nothing_reaches_the_application_when_the_sidecar_is_absent(self):
        e = self.emitter(base_url="http://127.0.0.1:9", spool_path=False)
        with self.assertRaises(KeyError):  # the application's own exception, nothing else
            with Monitored(site_id="s", app=AppRef(name="absent"), entity_type="job", emitter=e) as job:
                job.progress(5)
                raise KeyError("mine")
        self.assertFalse(e.flush(0.3))
        self.assertTrue(poll(lambda: e.stats()["spool_pending"] == 5, timeout=10), e.stats())
        e.close(0.2)
        self.assertEqual(5, e.stats()["unsent_at_close"])
        self.assertFalse(e.emit(event(1)))  # closed: refused, never raised


class FileSpoolTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="signalbox-py-spool-")
        self.path = os.path.join(self.dir, "s.ndjson")

    def test_position_survives_reopening_and_a_torn_last_line_is_cut(self):
        s = _FileSpool(self.path, 10000)
        self.assertEqual(0, s.append(['{"a":%d}' % i for i in range(5)]))
        self.assertEqual(['{"a":0}', '{"a":1}'], s.peek(2, 10000))
        s.consume(2)
        s.close()
        with open(self.path, "ab") as f:
            f.write(b'{"a":5')  # a crash in the middle of a write
        s = _FileSpool(self.path, 10000)
        self.assertEqual(3, s.pending())
        self.assertEqual(['{"a":2}', '{"a":3}', '{"a":4}'], s.peek(10, 10000))
        s.consume(3)
        self.assertEqual(0, os.path.getsize(self.path))
        s.close()

    def test_the_bound_counts_undelivered_bytes_and_delivered_ones_are_compacted_away(self):
        s = _FileSpool(self.path, 40)  # '{"a":N}\n' is 8 bytes: 5 fit
        self.assertEqual(2, s.append(['{"a":%d}' % i for i in range(7)]))
        self.assertEqual(5, s.pending())
        s.peek(3, 1000)
        s.consume(3)
        self.assertEqual(1, s.append(['{"a":%d}' % i for i in range(7, 11)]))
        self.assertEqual(['{"a":3}', '{"a":4}', '{"a":7}', '{"a":8}', '{"a":9}'], s.peek(10, 1000))
        self.assertEqual(40, os.path.getsize(self.path))
        s.close()

    def test_a_head_line_longer_than_the_read_window_is_handed_over_whole(self):
        with open(self.path, "wb") as f:
            f.write(b'{"big":"' + b"x" * 300000 + b'"}\n{"a":1}\n')
        s = _FileSpool(self.path, 10 ** 7)
        self.addCleanup(s.close)
        head = s.peek(10, 1000)
        self.assertEqual([300010], [len(l) for l in head])
        s.consume(1)
        self.assertEqual(['{"a":1}'], s.peek(10, 1000))

    def test_a_second_process_cannot_take_a_spool_in_use(self):
        s = _FileSpool(self.path, 1000)
        self.addCleanup(s.close)
        with self.assertRaises(OSError):
            _FileSpool(self.path, 1000)  # the lock is per open file: the same process is refused too


class DispatchAndOptionsTest(unittest.TestCase):
    def setUp(self):
        self.addCleanup(monitoring_sdk._default.__setitem__, 0, None)  # init() below replaces the default client

    def test_monitored_picks_the_design_from_its_arguments(self):
        app = AppRef(name="d")
        self.assertIs(TcpMonitored, type(Monitored("import", job_id="j")))
        self.assertIs(JobMonitored, type(Monitored(site_id="s", app=app, entity_type="job")))
        self.assertIs(JobMonitored, type(Monitored(emitter=None, business_key="k")))
        self.assertIs(JobMonitored, type(Monitored("site1", app, "job", "daily")))  # 003's positional order
        self.assertIsInstance(Monitored("x"), Monitored)
        self.assertIsInstance(Monitored(site_id="s"), Monitored)

    def assert_one_warning(self, call, unknown, known):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        ours = [w for w in caught if issubclass(w.category, SignalboxOptionWarning)]
        self.assertEqual(1, len(ours), [str(w.message) for w in caught])
        text = str(ours[0].message)
        for name in unknown:
            self.assertIn(name, text.split("known options:")[0])
        self.assertIn("known options: " + ", ".join(known), text)
        self.assertEqual(os.path.abspath(__file__), os.path.abspath(ours[0].filename))  # the caller's line
        return result

    def assert_no_warning(self, call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        self.assertEqual([], [str(w.message) for w in caught if issubclass(w.category, SignalboxOptionWarning)])
        return result

    def test_an_unknown_option_is_named_in_one_warning_everywhere(self):
        e = self.assert_one_warning(lambda: SidecarEmitter(base_url="http://127.0.0.1:9", spool_path=False,
                                                           max_retries=3, enable_retries=True),
                                    ["enable_retries", "max_retries"], SidecarEmitter.KNOWN_OPTIONS)
        self.addCleanup(e.close, 0.1)
        self.assertEqual("http://127.0.0.1:9", e.base_url)  # the known ones still apply
        app = self.assert_one_warning(lambda: AppRef(app_id=1, name="a", version="1", owner="x"), ["owner"],
                                      AppRef.KNOWN_OPTIONS)
        self.assertEqual("a", app.name)
        job = self.assert_one_warning(lambda: Monitored(site_id="s", app=app, emitter=e, enable_logging=False),
                                      ["enable_logging"], JobMonitored.KNOWN_OPTIONS)
        self.assertIs(JobMonitored, type(job))
        tcp = self.assert_one_warning(lambda: Monitored("import", jobid="j"), ["jobid"], TcpMonitored.KNOWN_OPTIONS)
        self.assertIs(TcpMonitored, type(tcp))
        mon = self.assert_one_warning(lambda: Monitoring("src", "127.0.0.1", 9, signal_handlers=False,
                                                         tcp_host="x", tcp_port=1),
                                      ["tcp_host", "tcp_port"], Monitoring.KNOWN_OPTIONS)
        mon.close(0)
        mon = self.assert_one_warning(lambda: monitoring_sdk.init("src", "127.0.0.1", 9, signal_handlers=False,
                                                                  buffer=5),
                                      ["buffer"], Monitoring.KNOWN_OPTIONS)
        mon.close(0)

    def test_known_options_give_no_warning(self):
        e = self.assert_no_warning(lambda: SidecarEmitter(base_url="http://127.0.0.1:9", timeout=1, queue_size=3,
                                                          batch_size=2, spool_path=False, spool_max_bytes=100,
                                                          backoff_initial=0.1, backoff_max=1, close_timeout=0.1,
                                                          env={}))
        self.addCleanup(e.close, 0.1)
        app = self.assert_no_warning(lambda: AppRef(app_id=uuid.uuid4(), name="n", version="v"))
        self.assert_no_warning(lambda: Monitored(site_id="s", app=app, entity_type="job", business_key="b",
                                                 sub_key="c", emitter=e, metadata={}, parent=None))
        self.assert_no_warning(lambda: Monitored("n", job_id="j", parent=None, client=None, attrs={}))
        self.assert_no_warning(lambda: Monitoring("s", "127.0.0.1", 9, buffer_size=5, signal_handlers=False,
                                                  env={})).close(0)


if __name__ == "__main__":
    unittest.main()
