"""Seed 003's HTTP design against the real sidecar: a private copy of the assembled distribution
(distribution/target/signalbox) on free ports, its HTTP ingest at /v1/events/batch, messages
checked where the shipped default route puts them (data/files/<src>/*.jsonl) and in the trace
API. Skipped, saying why, when the distribution is not built or no Java is found."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request
import uuid

from tests.support import SDK_DIR, poll
from tests.test_real_sidecar import Sidecar, _skip_reason
from monitoring_sdk import AppRef, Monitored, SidecarEmitter

# Seed 003, "Usage", copied verbatim; the only substitution is the port of base_url: 17000 becomes
# this sidecar's TCP port (a free one here), which is what 17000 is in Signalbox. The TCP port
# answers the emitter's HTTP probe with a redirect to the HTTP address, so 003's URL works as written.
USAGE_003 = '''from monitoring_sdk import AppRef, Monitored, SidecarEmitter
from uuid import uuid4

app = AppRef(app_id=uuid4(), name='my-app', version='1.0.0')
emitter = SidecarEmitter(base_url='http://localhost:17000')

with Monitored(site_id='site1', app=app, entity_type='job',
               business_key='daily-batch', emitter=emitter):
    # Your code here
    process_data()
'''

# What "Your code here" stands for: the application's function (003 leaves it undefined).
PROCESS_DATA = '''from monitoring_sdk import current_job


def process_data():
    job = current_job()
    for percent in (25, 50, 75):
        sum(i * i for i in range(200000))  # some CPU to account for
        job.progress(percent, "running")

'''

_HEX16 = re.compile(r"[0-9a-f]{16}\Z")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")


def _percents(msgs):
    return [m["data"]["percent"] for m in msgs if m.get("type") == "progress"]


@unittest.skipIf(_skip_reason(), _skip_reason())
class HttpDesignRealSidecarTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="signalbox-py-http-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sidecar = Sidecar(self.tmp)
        self.addCleanup(self.sidecar.stop_quietly)
        self.base_url = "http://127.0.0.1:%d" % self.sidecar.http_port

    def http_ready(self):
        try:
            with urllib.request.urlopen("%s/v1/health" % self.base_url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an answer: the HTTP server is up
        except OSError:
            return False

    def start_sidecar(self):
        """Starts it and waits until HTTP answers too (it comes up a little after TCP)."""
        self.sidecar.start()
        self.assertTrue(poll(self.http_ready, timeout=60, interval=0.1), self.sidecar.log())

    def emitter(self, **kw):
        kw.setdefault("spool_path", os.path.join(self.tmp, "spool.ndjson"))
        e = SidecarEmitter(base_url=self.base_url, backoff_initial=0.05, backoff_max=0.5, **kw)
        self.addCleanup(e.close, 0.5)
        return e

    def delivered(self, src, count):
        """The messages of ``src`` in the file backend once there are ``count`` (or what is there)."""
        poll(lambda: len(self.sidecar.messages(src)) >= count, timeout=60, interval=0.2)
        return self.sidecar.messages(src)

    def trace(self, tid):
        url = "http://127.0.0.1:%d/api/traces/%s" % (self.sidecar.http_port, tid)
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read().decode("utf-8"))

    def test_the_usage_example_of_003_runs_as_written_and_delivers_start_progress_end(self):
        self.start_sidecar()
        script = os.path.join(self.tmp, "usage_003.py")
        snippet = USAGE_003.replace("http://localhost:17000", "http://localhost:%d" % self.sidecar.port)
        self.assertEqual(1, USAGE_003.count("http://localhost:17000"))
        with open(script, "w", encoding="utf-8") as f:
            f.write(PROCESS_DATA + snippet)
        # a script of its own, as a user would run it: it never closes the emitter (exit does)
        env = dict(os.environ, PYTHONPATH=str(SDK_DIR), XDG_CACHE_HOME=os.path.join(self.tmp, "cache"))
        env.pop("SIDECAR_URL", None)
        p = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertEqual("", p.stderr)
        msgs = self.delivered("my-app", 6)
        self.assertEqual(["progress"] * 5 + ["span"], [m["type"] for m in msgs], msgs)
        self.assertEqual([0, 25, 50, 75, 100], _percents(msgs))
        self.assertEqual(["started", "running", "running", "running", "succeeded"],
                         [m["data"]["status"] for m in msgs[:5]])
        tid, sid = msgs[0]["tid"], msgs[0]["sid"]
        self.assertRegex(tid, _HEX32)
        self.assertRegex(sid, _HEX16)
        for m in msgs:
            self.assertEqual((1, "my-app", tid, sid), (m["v"], m["src"], m["tid"], m["sid"]))
            self.assertNotIn("pid", m)
            self.assertEqual("site1", m["ctx"]["site_id"])
            self.assertEqual("1.0.0", m["ctx"]["app_version"])
            self.assertEqual("job", m["ctx"]["entity_type"])
            self.assertEqual("daily-batch", m["ctx"]["business_key"])
            uuid.UUID(m["ctx"]["app_id"])
            self.assertEqual(m["ctx"]["entity_id"], msgs[0]["data"]["job_id"])
        span = msgs[-1]["data"]
        self.assertEqual(("job:daily-batch", "ok"), (span["name"], span["status"]))
        attrs = span["attrs"]
        self.assertEqual("succeeded", attrs["result"])
        self.assertGreater(attrs["duration_s"], 0)
        self.assertGreater(attrs["cpu_user_s"] + attrs["cpu_system_s"], 0)
        self.assertGreater(attrs["mem_max_mb"], 1)
        self.assertLessEqual(span["start"], span["end"])
        tree = self.trace(tid)
        self.assertEqual(1, len(tree["roots"]))
        self.assertEqual((sid, "job:daily-batch", "ok"),
                         (tree["roots"][0]["span_id"], tree["roots"][0]["name"], tree["roots"][0]["status"]))

    def test_a_job_inside_a_job_is_its_child_and_an_exception_is_recorded_and_raised(self):
        self.start_sidecar()
        emitter = self.emitter()
        app = AppRef(app_id=uuid.uuid4(), name="nested-app", version="2.0")
        with self.assertRaises(ValueError):
            with Monitored(site_id="fab1", app=app, entity_type="job", business_key="lot-7",
                           emitter=emitter) as job:
                job.progress(40)
                with Monitored(site_id="fab1", app=app, entity_type="subjob", business_key="lot-7",
                               sub_key="wafer-3", emitter=emitter) as sub:
                    sub.progress(10)
                    raise ValueError("wafer 3 unreadable")
        self.assertTrue(emitter.flush(60), emitter.stats())
        msgs = self.delivered("nested-app", 10)
        self.assertEqual(10, len(msgs), msgs)
        outer = [m for m in msgs if m["sid"] == job.span_id]
        inner = [m for m in msgs if m["sid"] == sub.span_id]
        self.assertEqual(10, len(outer) + len(inner))
        self.assertEqual({job.trace_id}, {m["tid"] for m in msgs})
        self.assertEqual({sub.span_id}, {m["sid"] for m in inner})
        self.assertEqual({job.span_id}, {m.get("pid") for m in inner})
        self.assertEqual({None}, {m.get("pid") for m in outer})
        self.assertEqual(str(job.entity_id), inner[0]["ctx"]["parent_entity_id"])
        self.assertEqual("wafer-3", inner[0]["ctx"]["sub_key"])
        # the inner job: started, 10 %, the error event, failed at 10 %, its span
        self.assertEqual(["progress", "progress", "event", "progress", "span"], [m["type"] for m in inner])
        event = inner[2]["data"]
        self.assertEqual(("error", "ValueError: wafer 3 unreadable"), (event["level"], event["msg"]))
        self.assertIn("raise ValueError(\"wafer 3 unreadable\")", event["ctx"]["traceback"])
        self.assertEqual((10, "failed"), (inner[3]["data"]["percent"], inner[3]["data"]["status"]))
        for span in (inner[4]["data"], outer[-1]["data"]):
            self.assertEqual("error", span["status"])
            self.assertEqual(("wafer 3 unreadable", "ValueError", "failed"),
                             (span["attrs"]["error"], span["attrs"]["error_type"], span["attrs"]["result"]))
        self.assertEqual("subjob:lot-7/wafer-3", inner[4]["data"]["name"])
        self.assertEqual([0, 40, 40], _percents(outer))
        tree = self.trace(job.trace_id)
        self.assertEqual([job.span_id], [r["span_id"] for r in tree["roots"]])
        self.assertEqual([sub.span_id], [c["span_id"] for c in tree["roots"][0]["children"]])
        self.assertEqual(10, emitter.stats()["sent"])

    def test_messages_emitted_while_the_sidecar_is_down_are_spooled_and_arrive_in_order_exactly_once(self):
        spool = os.path.join(self.tmp, "spool.ndjson")
        emitter = self.emitter(spool_path=spool)
        app = AppRef(app_id=uuid.uuid4(), name="spool-app", version="1")
        with Monitored(site_id="s1", app=app, entity_type="job", business_key="long", emitter=emitter) as job:
            for i in range(1, 101):  # the sidecar has never been started
                job.progress(i)
            self.assertTrue(poll(lambda: emitter.stats()["spool_pending"] == 101, timeout=30), emitter.stats())
            self.assertGreater(os.path.getsize(spool), 0)
            self.start_sidecar()
            for i in range(101, 201):
                job.progress(i)
            self.assertTrue(emitter.flush(60), emitter.stats())
            self.assertEqual(201, len(self.delivered("spool-app", 201)))
            self.sidecar.stop()  # stopped mid-job: graceful, what it accepted is written
            for i in range(201, 301):
                job.progress(i)
            self.assertTrue(poll(lambda: emitter.stats()["spool_pending"] == 100, timeout=30), emitter.stats())
        # the job ended while the sidecar was down: its end waits in the spool behind the rest
        self.assertTrue(poll(lambda: emitter.stats()["spool_pending"] == 102, timeout=30), emitter.stats())
        self.start_sidecar()
        self.assertTrue(emitter.flush(60), emitter.stats())
        msgs = self.delivered("spool-app", 303)
        self.assertEqual([0] + list(range(1, 301)) + [100], _percents(msgs))
        self.assertEqual(["succeeded"], [m["data"]["status"] for m in msgs if m["type"] == "progress"][-1:])
        self.assertEqual("span", msgs[-1]["type"])
        self.assertEqual(303, len(msgs))
        stats = emitter.stats()
        self.assertEqual((303, 0, 0), (stats["sent"], stats["dropped"], stats["spool_pending"]), stats)
        self.assertEqual(0, os.path.getsize(spool))

    def test_a_spool_left_by_a_closed_emitter_is_replayed_by_the_next_one(self):
        spool = os.path.join(self.tmp, "spool.ndjson")
        first = self.emitter(spool_path=spool)
        for i in range(1, 51):
            first.emit({"v": 1, "src": "restart-app", "ts": 1, "type": "event",
                        "data": {"level": "info", "msg": "n=%d" % i}})
        first.close(0.5)  # the sidecar is down: everything stays in the file
        self.assertEqual(50, first.stats()["unsent_at_close"])
        self.start_sidecar()
        second = self.emitter(spool_path=spool)
        second.emit({"v": 1, "src": "restart-app", "ts": 1, "type": "event", "data": {"level": "info", "msg": "n=51"}})
        self.assertTrue(second.flush(60), second.stats())
        msgs = self.delivered("restart-app", 51)
        self.assertEqual(["n=%d" % i for i in range(1, 52)], [m["data"]["msg"] for m in msgs])

    def test_a_full_spool_drops_the_newest_messages_and_counts_them(self):
        def line(i):
            return {"v": 1, "src": "bounded-app", "ts": 1700000000000, "type": "event",
                    "data": {"level": "info", "msg": "n=%05d" % i}}
        size = len(json.dumps(line(0), separators=(",", ":"))) + 1
        fit = 40
        emitter = self.emitter(spool_max_bytes=fit * size + size // 2)
        for i in range(1, 101):
            emitter.emit(line(i))
        self.assertTrue(poll(lambda: emitter.stats()["dropped"] == 60, timeout=30), emitter.stats())
        stats = emitter.stats()
        self.assertEqual((60, 0, fit), (stats["dropped_spool"], stats["dropped_queue"], stats["spool_pending"]))
        self.start_sidecar()
        self.assertTrue(emitter.flush(60), emitter.stats())
        msgs = self.delivered("bounded-app", fit)
        self.assertEqual(["n=%05d" % i for i in range(1, fit + 1)], [m["data"]["msg"] for m in msgs])
        self.assertEqual((fit, 60), (emitter.stats()["sent"], emitter.stats()["dropped"]))

    def test_an_emitter_pointed_at_the_tcp_port_is_redirected_to_the_http_address(self):
        self.start_sidecar()
        e = SidecarEmitter(base_url="http://localhost:%d" % self.sidecar.port, timeout=5, spool_path=False)
        self.addCleanup(e.close, 0.1)
        for i in range(20):
            e.emit({"v": 1, "src": "tcp-port", "ts": 1700000000000 + i, "type": "event",
                    "data": {"level": "info", "msg": "n=%02d" % i}})
        self.assertTrue(e.flush(60), e.stats())
        self.assertEqual("http://127.0.0.1:%d" % self.sidecar.http_port, e.base_url.rstrip("/"))
        msgs = self.delivered("tcp-port", 20)
        self.assertEqual(["n=%02d" % i for i in range(20)], [m["data"]["msg"] for m in msgs])

if __name__ == "__main__":
    unittest.main()
