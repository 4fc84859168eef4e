"""Shared test helpers: paths, the fake sidecar, polling with a deadline, the vector comparator."""
import json
import os
import re
import sys
import time
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parents[1]
REPO = SDK_DIR.parents[1]
CONFORMANCE = REPO / "sdk" / "conformance"
sys.path.insert(0, str(CONFORMANCE))

from fake_sidecar import FakeSidecar  # noqa: E402  (path set up above)

ENV_KEYS = ("SIGNALBOX_TRACE", "TRACEPARENT", "SIGNALBOX_SOURCE", "SIGNALBOX_HOST", "SIGNALBOX_PORT",
            "SIGNALBOX_SOCKET", "SIGNALBOX_SECRET", "SIGNALBOX_TOKEN", "SIGNALBOX_TLS", "SIGNALBOX_TLS_CA_FILE",
            "SIGNALBOX_TLS_SERVER_NAME")
TIMING_KEYS = ("ts", "start", "end", "dur_ms")
CONTROL_TYPES = ("hello", "heartbeat", "goodbye")
_REF = re.compile(r"\$[a-z]+[0-9]+\Z")
_REF_IN = re.compile(r"\$[a-z]+[0-9]+")
_HEX = {"s": re.compile(r"[0-9a-f]{16}\Z"), "t": re.compile(r"[0-9a-f]{32}\Z")}


def poll(condition, timeout=10.0, interval=0.01):
    """Polls until condition() is truthy (returns its value) or the deadline passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def load_vectors():
    with open(CONFORMANCE / "vectors.json", encoding="utf-8") as f:
        return json.load(f)


class Mismatch(AssertionError):
    pass


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare_value(expected, actual, bindings, path, nested):
    if isinstance(expected, str) and _REF.match(expected):
        kind = expected[1]
        if expected in bindings:
            if actual != bindings[expected]:
                raise Mismatch("%s: %r is %r, got %r" % (path, expected, bindings[expected], actual))
        else:
            if not isinstance(actual, str):
                raise Mismatch("%s: %r must bind to a string, got %r" % (path, expected, actual))
            bindings[expected] = actual
        if kind in _HEX and not _HEX[kind].match(actual):
            raise Mismatch("%s: %r = %r is not the expected hex id" % (path, expected, actual))
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch("%s: expected an object, got %r" % (path, actual))
        compare_object(expected, actual, bindings, path, nested)
        return
    if _is_num(expected):
        if not _is_num(actual) or float(expected) != float(actual):
            raise Mismatch("%s: expected %r, got %r" % (path, expected, actual))
        return
    if expected != actual or type(expected) is not type(actual):
        raise Mismatch("%s: expected %r, got %r" % (path, expected, actual))


def compare_object(expected, actual, bindings, path, nested):
    for key in TIMING_KEYS:
        if key in actual and not _is_num(actual[key]):
            raise Mismatch("%s.%s: not numeric: %r" % (path, key, actual[key]))
    for key, exp in expected.items():
        p = "%s.%s" % (path, key)
        if exp is None:
            if actual.get(key) is not None:
                raise Mismatch("%s: expected absent, got %r" % (p, actual[key]))
            continue
        if key not in actual:
            raise Mismatch("%s: missing (line %s)" % (p, json.dumps(actual)))
        compare_value(exp, actual[key], bindings, p, True)
    if nested:
        extra = set(actual) - set(expected) - set(TIMING_KEYS)
        if extra:
            raise Mismatch("%s: unexpected keys %s" % (path, sorted(extra)))


def compare_case(case, lines, env_results, bindings):
    """Raises Mismatch when the received lines / child_env results differ from the case."""
    expect = case["expect"]
    wanted = {e.get("type") for e in expect}
    actual = [json.loads(l) for l in lines]
    actual = [a for a in actual if a.get("type") not in CONTROL_TYPES or a.get("type") in wanted]
    for a in actual:
        if not _is_num(a.get("ts")):
            raise Mismatch("ts missing or not numeric: %r" % a)
        if a.get("type") == "span":
            d = a.get("data", {})
            if not _is_num(d.get("start")) or not (_is_num(d.get("end")) or _is_num(d.get("dur_ms"))):
                raise Mismatch("span without numeric start and end/dur_ms: %r" % a)
    if len(actual) != len(expect):
        raise Mismatch("expected %d lines, got %d:\n%s" % (len(expect), len(actual),
                                                          "\n".join(json.dumps(a) for a in actual)))
    for i, (e, a) in enumerate(zip(expect, actual)):
        compare_object(e, a, bindings, "line[%d]" % i, False)
    exp_env = case.get("expect_env", [])
    if len(exp_env) != len(env_results):
        raise Mismatch("expected %d child_env results, got %d" % (len(exp_env), len(env_results)))
    for i, (e, a) in enumerate(zip(exp_env, env_results)):
        for key, value in e.items():
            if value is not None:
                value = _REF_IN.sub(lambda m: bindings[m.group(0)], value)
            if a.get(key) != value:
                raise Mismatch("child_env[%d].%s: expected %r, got %r" % (i, key, value, a.get(key)))


def clean_env(extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env
