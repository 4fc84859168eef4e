#!/usr/bin/env python3
"""Per-call overhead of the Python SDK on the caller's thread: p50 / p99 / p99.9 per call.

    python3 sdk/python/bench.py [--calls 200000] [--sidecar HOST:PORT]

Runs every measured call twice: with the sidecar absent (nothing listens: the buffer fills and
calls take the overflow path) and present (by default a separate process that reads and
discards, so that the reader costs this process nothing; ``--sidecar`` uses a running sidecar
instead). Each call is timed alone with ``perf_counter_ns``; the cost of the timer itself
(measured on an empty call) is subtracted. Then, with the sidecar present, the sustained rate:
``--burst`` events logged in a tight loop into a buffer that holds them all, timed until the
sender has written the last one. Numbers depend on the machine and its load: compare runs on
the same host.
"""
import argparse
import gc
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from monitoring_sdk import Monitoring  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(fn, calls):
    ns = time.perf_counter_ns
    out = [0] * calls
    for i in range(calls):
        t0 = ns()
        fn(i)
        out[i] = ns() - t0
    out.sort()
    return out


def pct(sorted_ns, p):
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p))]


def cases(mon):
    sid = [None]

    def span_pair(i):
        mon.end_span(mon.start_span("step"), "ok")

    def span_cm(i):
        with mon.span("step"):
            pass

    def start(i):
        sid[0] = mon.start_span("step")

    ctx = {"file": "a.csv"}
    tags = {"table": "orders"}
    return [
        ("log_event", lambda i: mon.log_event("info", "processed a record", ctx)),
        ("log_metric", lambda i: mon.log_metric("rows", i, "count", tags)),
        ("log_progress", lambda i: mon.log_progress("job-1", 50, "running")),
        ("log_resource", lambda i: mon.log_resource(12.5, 1048576, None, None)),
        ("set_context", lambda i: mon.set_context("step", i)),
        ("start_span+end_span", span_pair),
        ("with span()", span_cm),
    ]


def run(label, host, port, calls):
    mon = Monitoring("bench", host, port, signal_handlers=False, heartbeat_interval=0, env={})
    if label == "present" and not mon.flush(10) and mon.state != "CONNECTED":
        time.sleep(0.5)
    mon.set_context("job_id", "job-1")
    empty = measure(lambda i: None, calls)
    base = pct(empty, 0.5)
    print("\nsidecar %s (%s:%s), %d calls each, timer overhead %d ns subtracted" % (label, host, port, calls, base))
    print("%-22s %9s %9s %9s %9s" % ("call", "p50 µs", "p99 µs", "p99.9 µs", "mean µs"))
    results = {}
    with mon.span("bench"):
        for name, fn in cases(mon):
            measure(fn, min(calls, 20000))  # warm-up
            mon.flush(10)
            gc.collect()
            r = measure(fn, calls)
            mean = sum(r) / len(r)
            row = [(pct(r, p) - base) / 1000.0 for p in (0.5, 0.99, 0.999)] + [(mean - base) / 1000.0]
            results[name] = row
            print("%-22s %9.2f %9.2f %9.2f %9.2f" % ((name,) + tuple(row)))
            mon.flush(10)
    st = mon.stats()
    mon.close()
    print("state after: sent %d, dropped %d" % (st["sent"], st["dropped"]))
    return results


SINK = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    while c.recv(1 << 20):
        pass
    c.close()
"""


def sustained(host, port, burst):
    mon = Monitoring("bench", host, port, signal_handlers=False, heartbeat_interval=0, env={},
                     buffer_size=burst)
    mon.log_event("info", "warm-up")
    mon.flush(10)
    started = time.perf_counter()
    for i in range(burst):
        mon.log_event("info", "processed a record")
    logged = time.perf_counter() - started
    mon.flush(120)
    written = time.perf_counter() - started
    st = mon.stats()
    mon.close()
    print("\nsustained: %d events logged in %.2f s (%.0f/s on the caller), all written after %.2f s "
          "(%.0f/s end to end), dropped %d" % (burst, logged, burst / logged, written, burst / written,
                                              st["dropped"]))


def main():
    ap = argparse.ArgumentParser(description="Per-call overhead of monitoring_sdk")
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--sidecar", help="HOST:PORT of a running sidecar (default: a discarding reader)")
    ap.add_argument("--burst", type=int, default=200000)
    args = ap.parse_args()
    print("Python %s on %s" % (sys.version.split()[0], sys.platform))
    run("absent", "127.0.0.1", free_port(), args.calls)
    proc = None
    if args.sidecar:
        host, _, port = args.sidecar.rpartition(":")
        port = int(port)
    else:
        proc = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
        host, port = "127.0.0.1", int(proc.stdout.readline())
    try:
        run("present", host, port, args.calls)
        sustained(host, port, args.burst)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
