#!/usr/bin/env bash
# Latency (issue 12): receive -> backend commit, from the sidecar's own histograms, on the assembled
# distribution started fresh with its shipped defaults.
#
#   mvn -B -DskipTests package && load/latency.sh [--max-rate N] [--seconds 20] [--flush-ms "shipped 10"]
#                                                 [--low-rate 1000] [--connections 4] [--sources 8]
#
# 1. The maximum rate: --max-rate, or (default) load/bench-tcp-to-file.sh is run first and its warm
#    e2e_msgs_per_s is taken.
# 2. For each flush interval of --flush-ms ("shipped" = no etc/io.signalbox.correlation.cfg, i.e. the
#    shipped flush.interval.ms=5000; a number = a correlation cfg with just flush.interval.ms=<n>,
#    nothing else changed), a fresh copy of the distribution is started. It is warmed up (500,000
#    messages at full speed, sources warmup-*, until they are on disk), then /metrics is read, the
#    load generator sends at half the maximum rate (--rate) for --seconds, the sidecar is given
#    the flush interval + 1 s to write what it holds, and /metrics is read again. The histograms'
#    difference is the measured interval alone (the warm-up and the JIT's first seconds are not in it).
# 3. With --low-rate R (default 1000; 0 skips it) the same is done at R msg/s, sent evenly (one line
#    every 1/R s, round-robin over --sources sources) by a small Python sender: the load generator
#    writes 256 KiB (~1,500 lines) per write, which at a low rate makes bursts seconds apart.
#
# Reported per run and backend, from the Prometheus histograms on http://127.0.0.1:<port>/metrics:
#   signalbox_pipeline_latency_seconds{backend}  one observation per batch written: from the receipt
#       (correlation's offer, after TCP decode) of the batch's OLDEST message to the backend's
#       commit, so it is the worst message of each batch, not every message;
#   signalbox_backend_latency_seconds{backend}   the backend write alone (one batch).
# Quantiles are interpolated linearly inside the bucket they fall in, as Prometheus'
# histogram_quantile does; the buckets are 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5,
# 5, 10, 30, 60 s, so a quantile is only known to lie in its bucket (e.g. "3.4 ms" means somewhere
# in 2.5-5 ms), and one beyond 60 s is reported as "> 60 s".
#
# Environment: SIGNALBOX_DIST measures another assembled tree; SIGNALBOX_JAVA_OPTS is passed on
# (default: none, the shipped JVM defaults); KEEP=1 keeps the temp folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
dist="${SIGNALBOX_DIST:-$root/distribution/target/signalbox}"
jar="$here/target/benchmarks.jar"
[[ -x "$dist/bin/signalbox" && -f "$jar" ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }

max_rate=""
seconds=20
flush_list="shipped 10"
low_rate=1000
connections=4
sources=8
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-rate) max_rate="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --flush-ms) flush_list="$2"; shift 2 ;;
    --low-rate) low_rate="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --sources) sources="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d -t signalbox-latency.XXXXXX)"
cleanup() {
  [[ -x "$work/s/bin/signalbox" ]] && "$work/s/bin/signalbox" stop >/dev/null 2>&1 || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), generator on the same machine"
if [[ -z "$max_rate" ]]; then
  echo "maximum rate: load/bench-tcp-to-file.sh (its defaults) ..."
  SIGNALBOX_DIST="$dist" "$here/bench-tcp-to-file.sh" > "$work/bench.txt" 2>&1 \
    || { tail -20 "$work/bench.txt" >&2; echo "FAILED: the full-speed run" >&2; exit 1; }
  max_rate="$(sed -n 's/^e2e_msgs_per_s=//p' "$work/bench.txt" | tail -1)"
fi
half=$((max_rate / 2))
echo "maximum rate $max_rate msg/s (warm, full speed); measured at half of it: $half msg/s for $seconds s"

# /metrics -> <name>,<backend>,<le>,<count> lines for the two histograms (le=sum for _sum)
scrape() {
  python3 - "$1" <<'EOF'
import re, sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode()
for line in text.splitlines():
    m = re.match(r'(signalbox_(?:pipeline|backend)_latency_seconds)_(bucket|sum)\{([^}]*)\} (\S+)', line)
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3)))
    le = labels.get("le", "sum") if m.group(2) == "bucket" else "sum"
    print(f'{m.group(1)},{labels.get("backend", "")},{le},{m.group(4)}')
EOF
}

# report <label> <before> <after>: quantiles of the difference, one table row per histogram and backend
report() {
  python3 - "$1" "$2" "$3" <<'EOF'
import collections, math, sys
label, before, after = sys.argv[1], sys.argv[2], sys.argv[3]
def load(path):
    d = collections.defaultdict(dict)
    for line in open(path):
        name, backend, le, value = line.strip().split(",")
        d[(name, backend)][le] = float(value)
    return d
b, a = load(before), load(after)
def quantile(q, buckets):  # buckets: [(upper bound, cumulative count)], +Inf last; as histogram_quantile
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return math.inf  # beyond the last finite bucket
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return math.inf
def fmt(s):
    if s is None:
        return "-"
    if math.isinf(s):
        return "> 60 s"
    return f"{s * 1000:.2f} ms" if s < 1 else f"{s:.2f} s"
for key in sorted(a):
    name, backend = key
    diff = {le: a[key][le] - b.get(key, {}).get(le, 0.0) for le in a[key]}
    buckets = sorted(((math.inf if le == "+Inf" else float(le)), c) for le, c in diff.items() if le != "sum")
    total = buckets[-1][1] if buckets else 0
    mean = diff.get("sum", 0.0) / total if total else None
    short = "receive -> commit (pipeline)" if "pipeline" in name else "backend write"
    print(f"| {label} | {backend} | {short} | {total:,.0f} | {fmt(quantile(0.5, buckets))} | {fmt(quantile(0.9, buckets))} "
          f"| {fmt(quantile(0.99, buckets))} | {fmt(mean)} |")
EOF
}

# even-paced sender for the low rate: send_even <port> <rate> <seconds> <sources>
send_even() {
  python3 - "$@" <<'EOF'
import socket, sys, time
port, rate, seconds, sources = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = int(rate * seconds)
t0 = time.monotonic()
for i in range(n):
    due = t0 + i / rate
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    line = ('{"v":1,"src":"even-%d","ts":%d,"type":"event","data":{"level":"info","msg":"paced line %d of %d",'
            '"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}\n') % (i % sources, 1763900000000 + i, i, n)
    s.sendall(line.encode())
s.close()
EOF
}

echo
echo "| run | backend | histogram | observations (batches) | p50 | p90 | p99 | mean |"
echo "|---|---|---|---|---|---|---|---|"
for flush in $flush_list; do
  for kind in half low; do
    [[ "$kind" == low && "$low_rate" -le 0 ]] && continue
    rm -rf "$work/s"
    cp -a "$dist" "$work/s"
    home="$work/s"
    rm -rf "$home/data" "$home/log"; mkdir -p "$home/data" "$home/log"
    port="$(free_port)"
    http_port="$(free_port)"
    sed -i "s/^port *=.*/port=$port/" "$home/etc/io.signalbox.transport.tcp.cfg"
    sed -i "s/^port *=.*/port=$http_port/" "$home/etc/io.signalbox.http.cfg"
    if [[ "$flush" == shipped ]]; then
      flush_ms=5000
      rm -f "$home/etc/io.signalbox.correlation.cfg"
    else
      flush_ms="$flush"
      printf 'flush.interval.ms=%s\n' "$flush" > "$home/etc/io.signalbox.correlation.cfg"
    fi
    "$home/bin/signalbox" start >/dev/null
    for _ in $(seq 1 600); do
      python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$http_port/health', timeout=2)" 2>/dev/null && break
      sleep 0.1
    done
    java -Xmx256m -cp "$jar" io.signalbox.load.LoadGenerator --port "$port" --connections "$connections" \
      --sources "$sources" --source-prefix warmup --messages 500000 --await-dir "$home/data/files" \
      --summary "$work/warmup.txt" 2>>"$work/generator.log" \
      || { tail -5 "$work/generator.log" >&2; echo "FAILED: warm-up" >&2; exit 1; }
    scrape "$http_port" > "$work/before.csv"
    if [[ "$kind" == half ]]; then
      rate="$half"
      java -Xmx256m -cp "$jar" io.signalbox.load.LoadGenerator --port "$port" --connections "$connections" \
        --sources "$sources" --source-prefix latency --messages "$((half * seconds))" --rate "$half" \
        --summary "$work/run.txt" 2>>"$work/generator.log" \
        || { tail -5 "$work/generator.log" >&2; echo "FAILED: paced run" >&2; exit 1; }
      sent="$(sed -n 's/^send_msgs_per_s=//p' "$work/run.txt")"
    else
      rate="$low_rate"
      send_even "$port" "$low_rate" "$seconds" "$sources"
      sent="$low_rate"
    fi
    # what the sidecar still holds is written within the flush interval
    sleep "$(awk -v f="$flush_ms" 'BEGIN {printf "%.2f", f / 1000 + 1}')"
    scrape "$http_port" > "$work/after.csv"
    "$home/bin/signalbox" stop >/dev/null
    report "flush $flush_ms ms, $rate msg/s (sent at $sent)" "$work/before.csv" "$work/after.csv"
  done
done
