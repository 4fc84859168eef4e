#!/usr/bin/env bash
# End-to-end benchmark: TCP → protocol → correlation → routing → file backend, on the assembled
# distribution, driven by io.signalbox.load.LoadGenerator. Prints messages/s, MiB/s and the
# sidecar's peak RSS, and checks that every message sent is on disk exactly once (line count).
#
#   mvn -B -DskipTests package          # builds distribution/target/signalbox and load/target/benchmarks.jar
#   load/bench-tcp-to-file.sh [--messages 2000000] [--warmup 1000000] [--connections 4] [--sources 8] [--rate 0]
#
# The sidecar is a JVM: its first seconds are spent compiling the hot path (the JIT compiler
# threads take most of a core for a few seconds). So the script first sends --warmup messages
# (sources warmup-*, reported as cold_*), waits until they are on disk, and then measures
# --messages (sources load-*) from first byte to last line on disk. --warmup 0 measures cold.
# --warm-files: the warm-up uses the measured sources (load-*), so their folders and files exist
# when the measurement starts: the steady state of a long-running sidecar with many sources
# (creating 10,000 folders and files is otherwise most of a short run's cost; see load/README.md).
#
# Environment: SIGNALBOX_JAVA_OPTS (default: none, i.e. the shipped heap bound and collector), FLUSH_MS (correlation
# flush.interval.ms for the run, default 250: with the shipped 5 s the last partial batches
# would add up to 5 s of pure waiting to a few-second run), KEEP=1 keeps the temp directory,
# THREADS=1 also prints the CPU seconds of every sidecar thread group, PERF=<file> records
# the sidecar with `perf record -g` during the measured phase, METRICS_STORE=off runs without
# the metrics store (its route, configuration and bundle removed), SIGNALBOX_DIST=<folder> measures
# another assembled tree (default distribution/target/signalbox).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_build

messages=2000000
warmup=1000000
warm_prefix=warmup
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --warm-files) warm_prefix=load; shift ;;
    --connections|--sources|--rate) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

fresh_copy signalbox-bench
port="$(free_port)"
sed -i "s/^port *=.*/port=$port/" "$home/etc/io.signalbox.transport.tcp.cfg"
grep -q "^port=$port" "$home/etc/io.signalbox.transport.tcp.cfg" || echo "port=$port" >> "$home/etc/io.signalbox.transport.tcp.cfg"
printf 'flush.interval.ms=%s\n' "${FLUSH_MS:-250}" > "$home/etc/io.signalbox.correlation.cfg"
# tuned runs say what they change: CORRELATION_EXTRA / FILES_EXTRA are lines added to the
# correlation's and the file backend's configuration (e.g. "queue.capacity=50000", "max.open.files=12000")
[[ -n "${CORRELATION_EXTRA:-}" ]] && printf '%s\n' "$CORRELATION_EXTRA" >> "$home/etc/io.signalbox.correlation.cfg"
[[ -n "${FILES_EXTRA:-}" ]] && printf '%s\n' "$FILES_EXTRA" >> "$home/etc/io.signalbox.backend.file-files.cfg"

export SIGNALBOX_JAVA_OPTS="${SIGNALBOX_JAVA_OPTS:-}"
"$home/bin/signalbox" start >/dev/null
pid="$(cat "$home/data/signalbox.pid")"
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

summary="$work/summary.txt"
# utime + stime: fields 14 and 15 of /proc/<pid>/stat, counted after the "(comm)" field
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
generate() {  # generate <source prefix> <messages> <summary file>
  java -Xmx256m -cp "$jar" io.signalbox.load.LoadGenerator --port "$port" --source-prefix "$1" --messages "$2" \
    "${args[@]}" --await-dir "$home/data/files" --summary "$3" 2>>"$work/generator.log" \
    || { cat "$work/generator.log" >&2; echo "FAILED: not every message arrived" >&2; exit 1; }
}
if [[ "$warmup" -gt 0 ]]; then
  generate "$warm_prefix" "$warmup" "$work/cold.txt"
  grep -E '^(messages|e2e_msgs_per_s|e2e_seconds)=' "$work/cold.txt" | sed 's/^/cold_/'
fi
cpu_before="$(cpu_ticks "$pid")"
# PERF=<file>: perf-record the sidecar (call graphs, all threads) during the measured phase only
[[ -n "${PERF:-}" ]] && { perf record -q -g -F 999 -p "$pid" -o "$PERF" 2>>"$work/perf.log" & perf_pid=$!; }
generate load "$messages" "$summary"
[[ -n "${PERF:-}" ]] && { kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; }  # perf may have failed to start (see perf.log)
rss_kib="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
cpu_after="$(cpu_ticks "$pid")"
if [[ "${THREADS:-0}" == 1 ]]; then  # user and system CPU seconds per sidecar thread group, whole life
  for t in /proc/"$pid"/task/*; do
    printf '%s %s %s\n' "$(sed 's/.*) //' "$t/stat" | awk '{print $12, $13}')" "$(tr -d '0-9 ' < "$t/comm")"
  done | awk -v tck="$(getconf CLK_TCK)" '{u[$3]+=$1; s[$3]+=$2} END {for (k in u) if (u[k] + s[k] > 0) printf "thread_cpu_seconds %-24s user=%.2f sys=%.2f\n", k, u[k]/tck, s[k]/tck}' | sort -k3 -r
fi
tck="$(getconf CLK_TCK)"
"$home/bin/signalbox" stop >/dev/null

on_disk="$(find "$home/data/files" -path '*/load-*' -name '*.jsonl' -exec cat {} + | wc -l)"
unique="$(find "$home/data/files" -path '*/load-*' -name '*.jsonl' -exec cat {} + | sort -u | wc -l)"
cat "$summary"
echo "sidecar_peak_rss_mib=$((rss_kib / 1024))"
# CPU the sidecar process burned during the run (user + system), and messages per CPU-second:
# the generator shares the same 2 cores, so this is the sidecar's own cost per message.
python3 -c "t=($cpu_after-$cpu_before)/$tck; print(f'sidecar_cpu_seconds={t:.2f}'); print(f'sidecar_msgs_per_cpu_second={round($messages/t) if t else 0}')"
echo "lines_on_disk_after_stop=$on_disk unique=$unique"
expected="$messages"; expected_unique="$messages"
# --warm-files: the warm-up sent the first --warmup lines of the same sequence again
[[ "$warm_prefix" == load ]] && expected=$((messages + warmup)) && expected_unique=$((messages > warmup ? messages : warmup))
if [[ "$on_disk" != "$expected" || "$unique" != "$expected_unique" ]]; then
  echo "FAILED: expected exactly $expected lines, $expected_unique unique" >&2
  exit 1
fi
echo "OK: every message on disk exactly once"
