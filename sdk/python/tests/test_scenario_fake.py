"""The common delivery scenario (sdk/conformance/README.md) against fake_sidecar.py."""
import json
import socket
import threading
import time
import unittest

from tests.support import FakeSidecar, poll
from monitoring_sdk import Monitoring, State


def numbers(lines, source=None):
    """The n of every event "n=<n>" (optionally of one source), in arrival order."""
    out = []
    for line in lines:
        m = json.loads(line)
        if m.get("type") == "event" and (source is None or m.get("src") == source):
            out.append(int(m["data"]["msg"][2:]))
    return out


def controls(lines, type_):
    return [json.loads(l)["data"] for l in lines if json.loads(l).get("type") == type_]


def client(port, **kw):
    kw.setdefault("backoff_initial", 0.02)
    kw.setdefault("backoff_max", 0.2)
    kw.setdefault("heartbeat_interval", 0)
    return Monitoring("scenario", "127.0.0.1", port, signal_handlers=False, **kw)


class FakeSidecarScenarioTest(unittest.TestCase):
    def test_messages_logged_while_the_sidecar_is_down_are_replayed_in_order_once_it_is_back(self):
        server = FakeSidecar().start()
        self.addCleanup(server.close)
        mon = client(server.port)
        self.addCleanup(mon.close)
        for i in range(1, 101):
            mon.log_event("info", "n=%d" % i)
        self.assertTrue(poll(lambda: numbers(server.lines())[-1:] == [100]))
        server.stop()
        for i in range(101, 601):  # 500 ≤ the default bound of 1,000
            mon.log_event("info", "n=%d" % i)
        self.assertTrue(poll(lambda: mon.state == State.DISCONNECTED))
        self.assertEqual(500, mon.stats()["buffered"])
        server.start()  # the same port again
        self.assertTrue(poll(lambda: numbers(server.lines())[-1:] == [600]), numbers(server.lines())[-5:])
        self.assertEqual(list(range(1, 601)), numbers(server.lines()))
        mon.close()
        self.assertTrue(poll(lambda: controls(server.lines(), "goodbye")))
        self.assertEqual([{"sent": 600, "dropped": 0}], controls(server.lines(), "goodbye"))
        self.assertEqual(2, len(controls(server.lines(), "hello")))

    def test_messages_logged_before_the_sidecar_starts_are_delivered(self):
        server = FakeSidecar()
        server.start()
        port = server.port
        server.stop()
        mon = client(port)
        self.addCleanup(mon.close)
        for i in range(1, 51):
            mon.log_event("info", "n=%d" % i)
        server.start()
        self.addCleanup(server.close)
        self.assertTrue(poll(lambda: numbers(server.lines())[-1:] == [50]))
        self.assertEqual(list(range(1, 51)), numbers(server.lines()))

    def test_overflow_drops_exactly_k_minus_bound_and_heartbeat_and_goodbye_report_it(self):
        server = FakeSidecar().start()
        self.addCleanup(server.close)
        mon = client(server.port, buffer_size=100, heartbeat_interval=0.05)
        self.addCleanup(mon.close)
        self.assertTrue(poll(lambda: mon.state == State.CONNECTED))
        server.stop()
        for i in range(1, 251):
            mon.log_event("info", "n=%d" % i)
        self.assertEqual(State.OVERFLOW, mon.state)
        self.assertEqual(150, mon.stats()["dropped"])
        server.start()
        self.assertTrue(poll(lambda: numbers(server.lines())[-1:] == [100]))
        # the oldest 100 are kept, the 150 logged into a full buffer are refused
        self.assertEqual(list(range(1, 101)), numbers(server.lines()))
        self.assertTrue(poll(lambda: any(h["dropped"] == 150 for h in controls(server.lines(), "heartbeat"))))
        mon.close()
        self.assertTrue(poll(lambda: controls(server.lines(), "goodbye")))
        self.assertEqual([{"sent": 100, "dropped": 150}], controls(server.lines(), "goodbye"))

    def test_dropped_connections_lose_only_what_was_in_flight_and_never_reorder_or_duplicate(self):
        server = FakeSidecar(drop_after=40).start()
        self.addCleanup(server.close)
        mon = client(server.port, buffer_size=100000)
        self.addCleanup(mon.close)
        for i in range(1, 3001):
            mon.log_event("info", "n=%d" % i)
            if i % 100 == 0:
                mon.flush(5)
        mon.close()
        poll(lambda: controls(server.lines(), "goodbye"), timeout=2)  # may itself be lost in a drop
        lines = server.lines()
        got = numbers(lines)
        self.assertGreater(server.connections, 10)
        self.assertEqual(sorted(set(got)), got, "in order, each at most once")
        # a gap in the numbers only ever follows a reconnect (a hello): nothing is lost
        # except what the SDK had written into a connection that the sidecar then dropped
        prev_n = 0
        after_hello = True
        for line in lines:
            m = json.loads(line)
            if m["type"] == "hello":
                after_hello = True
            elif m["type"] == "event":
                n = int(m["data"]["msg"][2:])
                if n != prev_n + 1:
                    self.assertTrue(after_hello, "gap %d→%d not at a reconnect" % (prev_n, n))
                prev_n = n
                after_hello = False
        # what was lost had been handed to the kernel (sent) before the drop: none was dropped
        # by the SDK, and each connection delivered the 39 lines the fake reads after hello
        self.assertEqual(mon.stats()["sent"], 3000, "every message was handed to a socket")
        self.assertEqual(0, mon.stats()["dropped"])
        self.assertGreaterEqual(len(got), 39 * (server.connections - 1))

    def test_a_sidecar_that_stops_reading_never_blocks_the_caller(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.addCleanup(listener.close)
        accepted = []
        t = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
        t.start()
        mon = client(listener.getsockname()[1], buffer_size=1000)
        payload = "x" * 1000
        for i in range(20000):  # ~20 MB: far more than the socket buffers hold
            mon.log_event("info", payload)
        self.assertGreater(mon.stats()["dropped"], 0)
        self.assertEqual(State.OVERFLOW, mon.state)
        started = time.monotonic()
        mon.close(timeout=0.5)
        self.assertLess(time.monotonic() - started, 5.0, "close is bounded by its timeout")
        # every message is accounted for: handed to the kernel, dropped on overflow, or still held at
        # close (how much the kernel's socket buffers absorbed varies from machine to machine)
        st = mon.stats()
        self.assertGreaterEqual(st["sent"] + st["dropped"] + st["unsent_at_close"], 20000, st)
        for s in accepted:
            s.close()

    def test_close_without_a_sidecar_does_not_hang(self):
        server = FakeSidecar().start()
        port = server.port
        server.close()
        mon = client(port)
        mon.log_event("info", "n=1")
        started = time.monotonic()
        mon.close()
        self.assertLess(time.monotonic() - started, 5.0)
        self.assertEqual(State.CLOSED, mon.state)
        self.assertEqual(1, mon.stats()["unsent_at_close"])


if __name__ == "__main__":
    unittest.main()
