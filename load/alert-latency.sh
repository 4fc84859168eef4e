#!/usr/bin/env bash
# Alert detection latency (issue 16): sample arrival -> alert event routed, on a fresh copy of the
# assembled distribution with its SHIPPED defaults (correlation flush.interval.ms=5000, store
# flush.interval.ms=1000), one rule `cpu_usage > 80` without `for` in a group with interval 1h (so
# only the arriving sample can make it fire).
#
#   mvn -B -DskipTests package && load/alert-latency.sh [--cycles 200] [--background-rate 2000]
#
# Each cycle sends one crossing sample (cpu_usage 95) over TCP and waits for the `firing` event on
# GET /api/tail?source=signalbox-alerts (the stream of routed batches: the event has been routed to
# its backends' channels when it appears there); then a falling sample (20) and waits for `resolved`.
# Two numbers per cycle:
#   external  time from writing the crossing line to the client socket until the event line is read
#             from the tail stream (an upper bound: includes the TCP hop and the tail stream's writing);
#   internal  the sidecar's own signalbox_alerting_detection_latency_seconds histogram: from the
#             sample's arrival at Ingest (IngestListener) until Ingest.offerAndFlush of the event has
#             returned (= routed), firing and resolved transitions alike.
# --background-rate N also sends N other metric samples per second (metric load_other, 8 sources)
# during the run, which the rule does not read.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
dist="${SIGNALBOX_DIST:-$root/distribution/target/signalbox}"
[[ -x "$dist/bin/signalbox" ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
cycles=200; bg=2000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cycles) cycles="$2"; shift 2 ;;
    --background-rate) bg="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
tmp="$(mktemp -d)"; trap '"$tmp/sb/bin/signalbox" stop >/dev/null 2>&1 || true; [[ -n "${KEEP:-}" ]] || rm -rf "$tmp"' EXIT
cp -r "$dist" "$tmp/sb"; rm -rf "$tmp/sb/data"/* "$tmp/sb/log"/*
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
tcp=$(free); http=$(free)
sed -i "s/^port=.*/port=$tcp/" "$tmp/sb/etc/io.signalbox.transport.tcp.cfg"
sed -i "s/^port=.*/port=$http/" "$tmp/sb/etc/io.signalbox.http.cfg"
SIGNALBOX_CDS=off "$tmp/sb/bin/signalbox" start >/dev/null
cat > "$tmp/sb/etc/latency.rules.yml" <<'RULES'
groups:
  - name: latency
    interval: 1h
    rules:
      - alert: CpuHigh
        expr: cpu_usage > 80
        labels: {severity: critical}
RULES
python3 - "$tcp" "$http" "$cycles" "$bg" <<'PY'
import json, socket, sys, threading, time, urllib.request, statistics
tcp, http, cycles, bg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = f"http://127.0.0.1:{http}"
deadline = time.time() + 60
while True:
    try:
        if "CpuHigh" in urllib.request.urlopen(base + "/api/v1/rules", timeout=2).read().decode():
            break
    except Exception:
        pass
    if time.time() > deadline:
        sys.exit("the rule file was not applied within 60 s")
    time.sleep(0.2)
stop = False
def background():
    s = socket.create_connection(("127.0.0.1", tcp)); n = 0; t0 = time.time()
    while not stop:
        n += 1
        s.sendall((json.dumps({"v":1,"src":f"bg-{n%8}","ts":int(time.time()*1000),"type":"metric","data":{"name":"load_other","value":n}})+"\n").encode())
        delay = t0 + n / bg - time.time()
        if delay > 0: time.sleep(delay)
if bg > 0:
    threading.Thread(target=background, daemon=True).start()
tail = urllib.request.urlopen(base + "/api/tail?source=signalbox-alerts", timeout=30)
sock = socket.create_connection(("127.0.0.1", tcp)); sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def cycle(value, state):
    line = json.dumps({"v":1,"src":"latency","ts":int(time.time()*1000),"type":"metric","data":{"name":"cpu_usage","value":value}}) + "\n"
    t0 = time.perf_counter(); sock.sendall(line.encode())
    while True:
        l = tail.readline()
        if not l: sys.exit("tail stream ended")
        if f'"state":"{state}"'.encode() in l:
            return time.perf_counter() - t0
ext = []
for i in range(cycles):
    ext.append(cycle(95, "firing"))
    cycle(20, "resolved")
stop = True
def q(xs, p):
    xs = sorted(xs); k = (len(xs) - 1) * p; f = int(k); c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)
print(f"cycles={cycles} background_rate={bg}/s")
print(f"external firing latency: p50={q(ext,.5)*1000:.1f} ms p99={q(ext,.99)*1000:.1f} ms max={max(ext)*1000:.1f} ms")
m = urllib.request.urlopen(base + "/metrics").read().decode()
buckets = []
for l in m.splitlines():
    if l.startswith("signalbox_alerting_detection_latency_seconds_bucket"):
        le = l.split('le="')[1].split('"')[0]; buckets.append((float("inf") if le == "+Inf" else float(le), float(l.split()[-1])))
total = buckets[-1][1]
def hq(p):
    rank = p * total; prev_b, prev_c = 0.0, 0.0
    for b, c in buckets:
        if c >= rank:
            if b == float("inf"): return float("inf")
            return prev_b + (b - prev_b) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 0)
        prev_b, prev_c = b, c
print(f"internal (histogram, {int(total)} transitions): p50={hq(.5)*1000:.1f} ms p99={hq(.99)*1000:.1f} ms")
PY
