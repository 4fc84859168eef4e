"""Runs every case of sdk/conformance/vectors.json against the SDK (README there has the rules)."""
import os
import tempfile
import unittest
from unittest import mock

from tests.support import FakeSidecar, compare_case, clean_env, load_vectors, poll, Mismatch
from monitoring_sdk import Monitoring


def run_case(case, server):
    env = clean_env(case.get("env"))
    options = dict(case.get("options") or {})
    if server.unix:
        host = port = None
        if case.get("connect_by_env"):
            env["SIGNALBOX_SOCKET"] = server.unix
        else:
            options["socket_path"] = server.unix
    elif case.get("connect_by_env"):
        env["SIGNALBOX_HOST"] = "127.0.0.1"
        env["SIGNALBOX_PORT"] = str(server.port)
        host = port = None
    else:
        host, port = "127.0.0.1", server.port
    before = len(server.lines())
    with mock.patch.dict(os.environ, env, clear=True):
        client = Monitoring(case.get("source"), host, port, signal_handlers=False, heartbeat_interval=0, **options)
    spans = []
    env_results = []
    bindings = {}
    calls = case["calls"]
    for call in calls:
        name, args = call[0], [bindings.get(a, a) if isinstance(a, str) else a for a in call[1:]]
        if name == "start_span":
            sid = client.start_span(*args)
            spans.append(sid)
            bindings["$s%d" % len(spans)] = sid
        elif name == "child_env":
            env_results.append(client.trace_env())
        else:
            getattr(client, name)(*args)
    if not calls or calls[-1][0] != "close":
        client.close()
    got = poll(lambda: any('"type":"goodbye"' in l for l in server.lines()[before:]), timeout=10)
    if not got:
        raise Mismatch("no goodbye within 10 s; lines: %r" % server.lines()[before:])
    compare_case(case, server.lines()[before:], env_results, bindings)


class ConformanceVectorsTest(unittest.TestCase):
    def test_every_vector_case_matches_field_by_field(self):
        vectors = load_vectors()
        self.assertEqual(1, vectors["version"])
        self.assertGreaterEqual(len(vectors["cases"]), 15)
        for case in vectors["cases"]:
            with self.subTest(case=case["name"]):
                with tempfile.TemporaryDirectory() as tmp, FakeSidecar(
                        unix=os.path.join(tmp, "c.sock") if case.get("transport") == "uds" else None) as server:
                    try:
                        run_case(case, server)
                    except Mismatch as e:
                        self.fail("%s: %s" % (case["name"], e))

    def test_comparator_rejects_a_wrong_line(self):
        case = {"expect": [{"type": "event", "tid": "job-1", "data": {"level": "info", "msg": "x"}}]}
        good = '{"v":1,"src":"s","ts":1,"type":"event","tid":"job-1","data":{"level":"info","msg":"x"}}'
        compare_case(case, [good], [], {})
        for bad in (good.replace("job-1", "job-2"), good.replace('"msg":"x"', '"msg":"x","extra":1'),
                    good.replace('"ts":1', '"ts":"1"')):
            with self.assertRaises(Mismatch):
                compare_case(case, [bad], [], {})
        refs = {"expect": [{"type": "span", "sid": "$s1", "pid": "$s1", "data": {"name": "a", "status": "ok"}}]}
        line = '{"ts":1,"type":"span","sid":"%s","pid":"%s","data":{"name":"a","status":"ok","start":1,"end":2}}'
        compare_case(refs, [line % ("0123456789abcdef", "0123456789abcdef")], [], {})
        with self.assertRaises(Mismatch):
            compare_case(refs, [line % ("0123456789abcdef", "1123456789abcdef")], [], {})


if __name__ == "__main__":
    unittest.main()
