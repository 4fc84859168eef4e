#!/usr/bin/env bash
# Side by side, as a user runs them: Signalbox (the assembled distribution, shipped defaults except
# flush.interval.ms=1000, Fluent Bit's "flush 1") and, when a binary is given, Fluent Bit (tcp input,
# format json -> file output). Each server is started fresh; the same generator
# (io.signalbox.load.LoadGenerator) sends --messages lines of ~170 bytes over --connections
# connections, timed from the first byte sent until the last line is in the output file.
#
#   mvn -B -DskipTests package                 # builds distribution/target/signalbox and load/target/benchmarks.jar
#   load/side-by-side.sh [--messages 2000000] [--connections 4]
#   FLUENTBIT_BIN=/path/to/fluent-bit load/side-by-side.sh
#
# Signalbox is measured cold (the first batch after start) and warm (a second batch, same process).
# Fluent Bit is not in any package registry reachable here (load/build-fluent-bit.sh builds 1.8.15 from
# source): without FLUENTBIT_BIN it is skipped, and the script says so. Every 0.25 s a sampler records the bytes in the output files and the server's RSS;
# at the end they become load/results/side-by-side-<time>.csv and a chart (.png, matplotlib: Debian's
# python3-matplotlib) of throughput and RSS over time. A run fails if a message is missing.
# SIGNALBOX_DIST=<folder> measures another assembled tree (default distribution/target/signalbox).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_build

messages=2000000
connections=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d -t signalbox-side-by-side.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  [[ -x "$work/signalbox/bin/signalbox" ]] && "$work/signalbox/bin/signalbox" stop >/dev/null 2>&1 || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$here/results"
csv="$here/results/side-by-side-$stamp.csv"
echo "run,seconds,output_bytes,rss_kib" > "$csv"
await_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
tck="$(getconf CLK_TCK)"

# sample <run> <pid> <dir>: output bytes and RSS every 0.25 s until the marker file goes
sample() {
  set +e # a missing output folder (before the first flush) is 0 bytes, not the end of the sampler
  local run="$1" pid="$2" dir="$3" start="$EPOCHREALTIME"
  while [[ -f "$work/sampling" ]] && kill -0 "$pid" 2>/dev/null; do
    local bytes rss
    bytes="$(find "$dir" -name '*.jsonl' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}')"
    rss="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
    echo "$run,$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}'),$bytes,${rss:-0}" >> "$csv"
    sleep 0.25
  done
}

# measure <run id> <label> <server pid> <port> <output dir>: one batch, sampled, checked; prints a table row
measure() {
  local run="$1" label="$2" pid="$3" port="$4" dir="$5" prefix="$1" summary="$work/$1.txt" cpu0 cpu1
  cpu0="$(cpu_ticks "$pid")"
  touch "$work/sampling"
  sample "$run" "$pid" "$dir" &
  local sampler=$!
  java -Xmx256m -cp "$jar" io.signalbox.load.LoadGenerator --port "$port" --connections "$connections" \
    --source-prefix "$prefix" --messages "$messages" --await-dir "$dir" --summary "$summary" 2>>"$work/generator.log" \
    || { tail -5 "$work/generator.log" >&2; echo "FAILED ($run): not every message arrived" >&2; exit 1; }
  rm -f "$work/sampling"; wait "$sampler" || true
  cpu1="$(cpu_ticks "$pid")"
  local rate rss
  rate="$(sed -n 's/^e2e_msgs_per_s=//p' "$summary")"
  rss="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
  printf '| %-28s | %9s | %8s MiB | %6.1f |\n' "$label" "$rate" "$((rss / 1024))" "$(awk -v a="$cpu0" -v b="$cpu1" -v t="$tck" 'BEGIN {print (b - a) / t}')"
}

echo "$messages lines of ~170 bytes over $connections connections, $(nproc) cores, generator on the same machine"
echo "| server | msg/s | peak RSS (process lifetime) | CPU s |"
echo "|---|---|---|---|"

# --- Signalbox: shipped defaults, flush 1 s like Fluent Bit ---
cp -a "$dist" "$work/signalbox"
home="$work/signalbox"
rm -rf "$home/data" "$home/log"; mkdir -p "$home/data" "$home/log"
port="$(free_port)"
sed -i "s/^port *=.*/port=$port/" "$home/etc/io.signalbox.transport.tcp.cfg"
printf 'flush.interval.ms=1000\n' > "$home/etc/io.signalbox.correlation.cfg"
http_port="$(free_port)"
sed -i "s/^port *=.*/port=$http_port/" "$home/etc/io.signalbox.http.cfg"
"$home/bin/signalbox" start >/dev/null
sb_pid="$(cat "$home/data/signalbox.pid")"
await_port "$port" || { echo "FAILED: Signalbox did not listen" >&2; exit 1; }
measure signalbox-cold "signalbox (fresh start)" "$sb_pid" "$port" "$home/data/files"
measure signalbox-warm "signalbox (warm, 2nd batch)" "$sb_pid" "$port" "$home/data/files"
"$home/bin/signalbox" stop >/dev/null

# --- Fluent Bit, when a binary is given ---
if [[ -n "${FLUENTBIT_BIN:-}" && -x "${FLUENTBIT_BIN}" ]]; then
  fb="$work/fluent-bit"; mkdir -p "$fb/out"
  port="$(free_port)"
  cat > "$fb/fluent-bit.conf" <<EOF
[SERVICE]
    flush     1
    log_level warn
[INPUT]
    name   tcp
    listen 127.0.0.1
    port   $port
    format json
[OUTPUT]
    name   file
    match  *
    path   $fb/out
    file   out.jsonl
    format plain
EOF
  "$FLUENTBIT_BIN" -c "$fb/fluent-bit.conf" > "$fb/log.txt" 2>&1 &
  server_pid=$!
  await_port "$port" || { echo "FAILED: Fluent Bit did not listen (see $fb/log.txt)" >&2; exit 1; }
  measure fluent-bit "fluent-bit (fresh start)" "$server_pid" "$port" "$fb/out"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
else
  echo "| fluent-bit | skipped: set FLUENTBIT_BIN to a fluent-bit binary (not in the registries reachable here) | | |"
fi

# --- the chart ---
plot="$here/results/side-by-side-$stamp.png"
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 - "$csv" "$plot" "$messages" <<'EOF'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["run"], []).append((float(r["seconds"]), int(r["output_bytes"]), int(r["rss_kib"])))
fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
for run, pts in rows.items():
    pts.sort()
    base = pts[0][1]
    total = max(pts[-1][1] - base, 1)
    # bytes per line of this run's output, from the whole run: turns bytes written into lines
    lines_per_byte = int(sys.argv[3]) / total
    xs = [p[0] for p in pts[1:]]
    rates = [((b - pb) * lines_per_byte) / max(t - pt, 1e-3)
             for (pt, pb, _), (t, b, _) in zip(pts, pts[1:])]
    top.plot(xs, [r / 1000 for r in rates], label=run)
    bottom.plot([p[0] for p in pts], [p[2] / 1024 for p in pts], label=run)
top.set_ylabel("lines written / s (thousands)")
bottom.set_ylabel("RSS (MiB)")
bottom.set_xlabel("seconds since the batch started")
top.legend(loc="upper right", fontsize="small")
top.grid(True, alpha=0.3)
bottom.grid(True, alpha=0.3)
fig.suptitle("Signalbox side by side: throughput and memory over time")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
EOF
  echo "chart: $plot"
else
  echo "chart skipped: install Debian's python3-matplotlib (apt-get install python3-matplotlib)"
fi
echo "samples: $csv"
