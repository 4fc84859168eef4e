"""The common scenario against the real sidecar: a private copy of the assembled distribution
(distribution/target/signalbox) on a free port, stopped and started again while the SDK logs.
Skipped, saying why, when the distribution is not built or no Java is found."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
import uuid

from tests.support import REPO, poll
from monitoring_sdk import Monitoring, State

DIST = REPO / "distribution" / "target" / "signalbox"


def _java_available():
    home = os.environ.get("JAVA_HOME")
    return (home and os.access(os.path.join(home, "bin", "java"), os.X_OK)) or shutil.which("java")


def _skip_reason():
    if not os.access(DIST / "bin" / "signalbox", os.X_OK):
        return ("no assembled distribution at %s: build it with "
                "`mvn -B -q -o package -DskipTests -pl distribution` (the Maven build does it before sdk/)" % DIST)
    if not _java_available():
        return "no java on the PATH and no JAVA_HOME: cannot start the sidecar"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sidecar:
    """A copy of the distribution in a temp folder, driven through its own bin/signalbox."""

    def __init__(self, root):
        self.home = os.path.join(root, "signalbox")
        shutil.copytree(DIST, self.home, symlinks=True,
                        ignore=lambda d, names: names if os.path.basename(d) in ("data", "log")
                        and os.path.dirname(d) == str(DIST) else [])
        self.port = _free_port()
        self._set_port("etc/io.signalbox.transport.tcp.cfg", self.port)
        self.http_port = None
        for cfg in glob.glob(os.path.join(self.home, "etc", "io.signalbox.http*.cfg")):
            port = _free_port()
            self._set_port(os.path.relpath(cfg, self.home), port)
            if os.path.basename(cfg) == "io.signalbox.http.cfg":
                self.http_port = port

    def _set_port(self, rel, port):
        path = os.path.join(self.home, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text, n = re.subn(r"(?m)^port=\d+$", "port=%d" % port, text)
        if n != 1:
            raise AssertionError("%s has no single port= line" % path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def command(self, cmd):
        env = dict(os.environ, SIGNALBOX_JAVA_OPTS="-Xmx256m")
        env.pop("SIGNALBOX_STOP_TIMEOUT", None)
        p = subprocess.run([os.path.join(self.home, "bin", "signalbox"), cmd], cwd=os.path.dirname(self.home),
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def start(self):
        rc, out = self.command("start")
        if rc != 0:
            raise AssertionError("bin/signalbox start: %d %s\n%s" % (rc, out, self.log()))
        if not poll(self.listening, timeout=60, interval=0.1):
            raise AssertionError("nothing listens on %d after 60 s; log:\n%s" % (self.port, self.log()))

    def stop(self):
        rc, out = self.command("stop")
        if rc != 0:
            raise AssertionError("bin/signalbox stop: %d %s" % (rc, out))

    def pid(self):
        try:
            with open(os.path.join(self.home, "data", "signalbox.pid")) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def stop_quietly(self):
        pid = self.pid()
        if pid is None or not _running(pid):
            return
        try:
            self.command("stop")
        finally:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)  # never leave a JVM behind

    def log(self):
        path = os.path.join(self.home, "log", "signalbox.log")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def messages(self, source):
        out = []
        for path in sorted(glob.glob(os.path.join(self.home, "data", "files", source, "*.jsonl"))):
            with open(path, encoding="utf-8") as f:
                out.extend(json.loads(l) for l in f if l.strip())
        return out


def _running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _numbers(msgs):
    return [int(m["data"]["msg"][2:]) for m in msgs if m.get("type") == "event"]


@unittest.skipIf(_skip_reason(), _skip_reason())
class RealSidecarScenarioTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="signalbox-py-sdk-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sidecar = Sidecar(self.tmp)
        self.addCleanup(self.sidecar.stop_quietly)
        self.sidecar.start()

    def client(self, source, **kw):
        return Monitoring(source, "127.0.0.1", self.sidecar.port, signal_handlers=False, heartbeat_interval=0.2,
                          backoff_initial=0.05, backoff_max=0.5, env={}, **kw)

    def test_messages_logged_while_the_sidecar_is_stopped_arrive_in_order_and_overflow_is_exact(self):
        run = uuid.uuid4().hex[:8]
        src, small_src = "py-sdk-it-" + run, "py-sdk-small-" + run
        mon = self.client(src)
        small = self.client(small_src, buffer_size=100)
        self.addCleanup(mon.close)
        self.addCleanup(small.close)
        for i in range(1, 201):
            mon.log_event("info", "n=%d" % i)
        # only what the sidecar has read survives its stop for sure: wait until it is in the files
        self.assertTrue(poll(lambda: 200 in _numbers(self.sidecar.messages(src)), timeout=60, interval=0.2),
                        self.sidecar.log())
        self.assertTrue(poll(lambda: small.state == State.CONNECTED))
        self.sidecar.stop()
        for i in range(201, 701):  # 500 ≤ the default bound of 1,000
            mon.log_event("info", "n=%d" % i)
        for i in range(1, 251):  # 250 > the bound of 100: exactly 150 dropped
            small.log_event("info", "n=%d" % i)
        self.assertTrue(poll(lambda: mon.state == State.DISCONNECTED))
        self.assertEqual(150, small.stats()["dropped"])
        self.sidecar.start()
        self.assertTrue(mon.flush(30) and small.flush(30), mon.stats())
        mon.close()
        small.close()
        self.assertTrue(poll(lambda: 700 in _numbers(self.sidecar.messages(src)), timeout=60, interval=0.2),
                        self.sidecar.log())
        self.assertTrue(poll(lambda: 100 in _numbers(self.sidecar.messages(small_src)), timeout=60, interval=0.2))
        self.sidecar.stop()  # graceful: flushes what it holds
        self.assertEqual(list(range(1, 701)), _numbers(self.sidecar.messages(src)))
        small_msgs = self.sidecar.messages(small_src)
        self.assertEqual(list(range(1, 101)), _numbers(small_msgs))
        # the shipped default route sends every type to the files, heartbeat and goodbye too
        reports = [m for m in small_msgs if m.get("type") in ("heartbeat", "goodbye")]
        self.assertEqual("goodbye", reports[-1]["type"])
        self.assertEqual({"sent": 100, "dropped": 150}, reports[-1]["data"])


if __name__ == "__main__":
    unittest.main()
