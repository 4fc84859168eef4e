"""Process-level behaviour: signal handlers, exit without close(), fork, trace across processes."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import unittest

from tests.support import FakeSidecar, SDK_DIR, poll


def parsed(server):
    return [json.loads(l) for l in server.lines()]


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self.server = FakeSidecar().start()
        self.addCleanup(self.server.close)

    def spawn(self, code, **kw):
        env = dict(os.environ, PYTHONPATH=str(SDK_DIR), SIGNALBOX_PORT=str(self.server.port),
                   SIGNALBOX_HOST="127.0.0.1")
        for k in ("SIGNALBOX_TRACE", "TRACEPARENT", "SIGNALBOX_SOURCE"):
            env.pop(k, None)
        # as started from a terminal, even when this test runs where SIGINT is ignored (a
        # background job, nohup): Python then keeps SIG_IGN instead of raising KeyboardInterrupt
        code = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n" + textwrap.dedent(code)
        p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)
        self.addCleanup(self._reap, p)
        return p

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)

    def goodbyes(self):
        return [m["data"] for m in parsed(self.server) if m["type"] == "goodbye"]

    def await_goodbyes(self, count=1):
        """The goodbye messages' data, once the sidecar has received exactly `count` of them."""
        self.assertTrue(poll(lambda: len(self.goodbyes()) == count))
        return self.goodbyes()

    def test_sigterm_closes_the_client_then_terminates_the_script(self):
        p = self.spawn("""
            import time
            from monitoring_sdk import Monitoring
            m = Monitoring("sig")
            m.log_event("info", "working")
            print("ready", m.signal_handlers, flush=True)
            time.sleep(60)
        """)
        self.assertEqual("ready True", p.stdout.readline().strip())
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        self.assertEqual(-signal.SIGTERM, p.returncode)
        self.assertEqual([{"sent": 1, "dropped": 0}], self.await_goodbyes())

    def test_sigint_closes_the_client_and_still_raises_keyboard_interrupt(self):
        p = self.spawn("""
            import sys, time
            from monitoring_sdk import Monitoring
            m = Monitoring("sig")
            m.log_event("info", "working")
            try:
                print("ready", flush=True)
                time.sleep(60)
            except KeyboardInterrupt:
                print("interrupted", m.state, flush=True)
                sys.exit(3)
        """)
        self.assertEqual("ready", p.stdout.readline().strip())
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
        self.assertEqual(3, p.returncode)
        self.assertEqual("interrupted CLOSED", out.strip())
        self.await_goodbyes()

    def test_handlers_installed_by_the_application_are_left_alone_unless_asked(self):
        p = self.spawn("""
            import signal
            from monitoring_sdk import Monitoring
            signal.signal(signal.SIGTERM, lambda s, f: None)
            a = Monitoring("app")
            b = Monitoring("app", signal_handlers=False)
            print(a.signal_handlers, b.signal_handlers, signal.getsignal(signal.SIGTERM).__name__)
            c = Monitoring("app", signal_handlers=True)
            print(c.signal_handlers, signal.getsignal(signal.SIGTERM).__name__)
        """)
        out, err = p.communicate(timeout=30)
        # a: SIGINT still had its default handler, so only SIGINT was taken
        self.assertEqual(["True False <lambda>", "True handler"], out.split("\n")[:2], err)

    def test_a_script_that_never_calls_close_still_flushes_and_says_goodbye_at_exit(self):
        p = self.spawn("""
            from monitoring_sdk import Monitoring
            m = Monitoring("forgetful")
            for i in range(200):
                m.log_event("info", "n=%d" % i)
        """)
        p.communicate(timeout=30)
        self.assertEqual(0, p.returncode)
        self.assertEqual([{"sent": 200, "dropped": 0}], self.await_goodbyes())

    def test_a_child_process_continues_the_trace_of_its_parent(self):
        p = self.spawn("""
            import subprocess, sys
            from monitoring_sdk import Monitoring
            m = Monitoring("parent")
            m.set_context("job_id", "job-77")
            with m.span("run-child") as sid:
                child = "from monitoring_sdk import Monitoring\\n" \\
                        "with Monitoring('child') as c:\\n" \\
                        "    c.log_event('info', 'in child')\\n" \\
                        "    with c.span('child-work'):\\n" \\
                        "        pass\\n"
                subprocess.run([sys.executable, "-c", child], env=m.child_env(), check=True)
            m.close()
            print(sid)
        """)
        out, err = p.communicate(timeout=60)
        self.assertEqual(0, p.returncode, err)
        parent_sid = out.strip()
        self.await_goodbyes(2)
        msgs = parsed(self.server)
        child_event = next(m for m in msgs if m["src"] == "child" and m["type"] == "event")
        child_span = next(m for m in msgs if m["src"] == "child" and m["type"] == "span")
        parent_span = next(m for m in msgs if m["src"] == "parent" and m["type"] == "span")
        self.assertEqual(("job-77", parent_sid), (child_event["tid"], child_event["sid"]))
        self.assertEqual(("job-77", parent_sid), (child_span["tid"], child_span["pid"]))
        self.assertEqual(parent_sid, parent_span["sid"])

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_gets_its_own_connection_and_never_resends_the_parents_buffer(self):
        p = self.spawn("""
            import os
            from monitoring_sdk import Monitoring
            m = Monitoring("forker")
            for i in range(100):
                m.log_event("info", "before %d" % i)
            pid = os.fork()
            if pid == 0:
                m.log_event("info", "child")
                m.close()
                os._exit(0)
            os.waitpid(pid, 0)
            m.log_event("info", "parent")
            m.close()
        """)
        _, err = p.communicate(timeout=30)
        self.assertEqual(0, p.returncode, err)
        self.await_goodbyes(2)
        msgs = [m["data"]["msg"] for m in parsed(self.server) if m["type"] == "event"]
        self.assertEqual(["before %d" % i for i in range(100)], [x for x in msgs if x.startswith("before")])
        self.assertEqual(1, msgs.count("child"))
        self.assertEqual(1, msgs.count("parent"))


if __name__ == "__main__":
    unittest.main()
