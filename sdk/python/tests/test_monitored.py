"""Monitored: jobs and sub-jobs with parent-child links, progress, duration, CPU, memory, failures."""
import json
import threading
import unittest

from tests.support import FakeSidecar, poll
from monitoring_sdk import Monitoring, Monitored


class MonitoredTest(unittest.TestCase):
    def setUp(self):
        self.server = FakeSidecar().start()
        self.addCleanup(self.server.close)
        self.mon = Monitoring("jobs", "127.0.0.1", self.server.port, signal_handlers=False,
                              heartbeat_interval=0, env={})
        self.addCleanup(self.mon.close)

    def messages(self, goodbyes=1):
        self.mon.close()
        self.assertTrue(poll(lambda: sum('"goodbye"' in l for l in self.server.lines()) >= goodbyes))
        return [json.loads(l) for l in self.server.lines() if '"hello"' not in l and '"goodbye"' not in l]

    def test_job_with_sub_jobs_links_spans_and_reports_progress_duration_cpu_and_memory(self):
        with Monitored("import", job_id="job-1", client=self.mon) as job:
            job.progress(10, "reading")
            with job.sub("parse") as parse:
                parse.progress(50)
            worker_ids = []

            def work():
                with job.sub("load") as load:  # a sub-job in another thread
                    worker_ids.append(load.job_id)
                    self.mon.log_event("info", "loading in a worker")
            t = threading.Thread(target=work)
            t.start()
            t.join()
        msgs = self.messages()
        spans = {m["data"]["name"]: m for m in msgs if m["type"] == "span"}
        self.assertEqual({"import", "parse", "load"}, set(spans))
        root, parse_span, load_span = spans["import"], spans["parse"], spans["load"]
        self.assertEqual({"job-1"}, {s["tid"] for s in spans.values()}, "one trace for the whole job")
        self.assertNotIn("pid", root)
        self.assertEqual(root["sid"], parse_span["pid"])
        self.assertEqual(root["sid"], load_span["pid"])
        self.assertEqual({"job_id": "job-1.1", "parent_job_id": "job-1"},
                         {k: parse_span["data"]["attrs"][k] for k in ("job_id", "parent_job_id")})
        self.assertEqual(["job-1.2"], worker_ids)
        for s in spans.values():
            self.assertEqual("ok", s["data"]["status"])
            attrs = s["data"]["attrs"]
            self.assertGreaterEqual(attrs["duration_ms"], 0)
            self.assertGreaterEqual(attrs["cpu_s"], 0)
            self.assertGreater(attrs["mem_rss"], 0)
        progress = [(m["data"]["job_id"], m["data"]["percent"], m["data"]["status"])
                    for m in msgs if m["type"] == "progress"]
        self.assertEqual([("job-1", 0, "started"), ("job-1", 10, "reading"),
                          ("job-1.1", 0, "started"), ("job-1.1", 50, "running"), ("job-1.1", 100, "completed"),
                          ("job-1.2", 0, "started"), ("job-1.2", 100, "completed"),
                          ("job-1", 100, "completed")], progress)
        resources = [m for m in msgs if m["type"] == "resource"]
        self.assertEqual(3, len(resources))
        self.assertTrue(all("cpu" in r["data"] and r["data"]["mem"] > 0 for r in resources))
        worker_event = next(m for m in msgs if m["type"] == "event")
        self.assertEqual(("job-1", load_span["sid"]), (worker_event["tid"], worker_event["sid"]))

    def test_an_exception_is_recorded_as_failure_and_propagates(self):
        with self.assertRaises(ValueError):
            with Monitored("import", job_id="job-2", client=self.mon) as job:
                job.progress(30)
                with job.sub("parse"):
                    raise ValueError("bad row 17")
        msgs = self.messages()
        spans = {m["data"]["name"]: m for m in msgs if m["type"] == "span"}
        self.assertEqual("error", spans["parse"]["data"]["status"])
        self.assertEqual("error", spans["import"]["data"]["status"])
        self.assertEqual("ValueError: bad row 17", spans["parse"]["data"]["attrs"]["error"])
        errors = [m for m in msgs if m["type"] == "event" and m["data"]["level"] == "error"]
        self.assertEqual(2, len(errors))  # the sub-job and the job it propagated through
        self.assertEqual("ValueError", errors[0]["data"]["ctx"]["exception"])
        self.assertIn("bad row 17", errors[0]["data"]["ctx"]["traceback"])
        failed = [(m["data"]["job_id"], m["data"]["percent"]) for m in msgs
                  if m["type"] == "progress" and m["data"].get("status") == "failed"]
        self.assertEqual([("job-2.1", 0), ("job-2", 30)], failed)

    def test_fail_marks_a_job_failed_without_an_exception(self):
        with Monitored("check", job_id="job-3", client=self.mon) as job:
            job.fail("3 rows rejected")
        spans = [m for m in self.messages() if m["type"] == "span"]
        self.assertEqual(("error", "3 rows rejected"), (spans[0]["data"]["status"], spans[0]["data"]["attrs"]["error"]))

    def test_decorator_runs_each_call_as_a_new_job(self):
        @Monitored("nightly", client=self.mon)
        def nightly(x):
            return x * 2
        self.assertEqual(4, nightly(2))
        self.assertEqual(6, nightly(3))
        spans = [m for m in self.messages() if m["type"] == "span"]
        self.assertEqual(2, len(spans))
        self.assertNotEqual(spans[0]["tid"], spans[1]["tid"])
        self.assertTrue(all(s["tid"].startswith("nightly-") for s in spans))

    def test_a_job_in_a_child_process_continues_the_inherited_trace(self):
        child = Monitoring("child", "127.0.0.1", self.server.port, signal_handlers=False, heartbeat_interval=0,
                           env={"SIGNALBOX_TRACE": "job-9:00f067aa0ba902b7"})
        with Monitored("db-load", client=child) as job:
            env = job.child_env({})
        child.close()
        self.assertEqual("job-9:" + job.span_id, env["SIGNALBOX_TRACE"])
        span = next(m for m in self.messages(goodbyes=2) if m["type"] == "span")
        self.assertEqual(("job-9", "00f067aa0ba902b7"), (span["tid"], span["pid"]))


if __name__ == "__main__":
    unittest.main()
