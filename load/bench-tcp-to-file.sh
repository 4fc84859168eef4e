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
# another assembled tree (default distribution/target/signalbox), NMT=1 adds
# -XX:NativeMemoryTracking=summary (~2 MiB more RSS) and prints the JVM's committed memory by
# category at the end of the run, RSS_SERIES=<file> appends "seconds anon-MiB file-MiB" every 0.5 s,
# METRICS=<file> saves the sidecar's /metrics after the measured phase.
# Besides the peak RSS (VmHWM) the script prints the peaks of its anonymous and file-backed parts
# (sampled every 0.5 s) and the RSS at the end of the run.
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
http_port="$(free_port)"
sed -i "s/^port *=.*/port=$http_port/" "$home/etc/io.signalbox.http.cfg"
sed -i "s/^port *=.*/port=$port/" "$home/etc/io.signalbox.transport.tcp.cfg"
grep -q "^port=$port" "$home/etc/io.signalbox.transport.tcp.cfg" || echo "port=$port" >> "$home/etc/io.signalbox.transport.tcp.cfg"
printf 'flush.interval.ms=%s\n' "${FLUSH_MS:-250}" > "$home/etc/io.signalbox.correlation.cfg"
# tuned runs say what they change: CORRELATION_EXTRA / FILES_EXTRA are lines added to the
# correlation's and the file backend's configuration (e.g. "queue.capacity=50000", "max.open.files=12000"),
# STORE_EXTRA to the metrics store's (e.g. "threads=1")
[[ -n "${STORE_EXTRA:-}" ]] && printf '%s\n' "$STORE_EXTRA" >> "$home/etc/io.signalbox.metrics.store.cfg"
[[ -n "${CORRELATION_EXTRA:-}" ]] && printf '%s\n' "$CORRELATION_EXTRA" >> "$home/etc/io.signalbox.correlation.cfg"
[[ -n "${FILES_EXTRA:-}" ]] && printf '%s\n' "$FILES_EXTRA" >> "$home/etc/io.signalbox.backend.file-files.cfg"

export SIGNALBOX_JAVA_OPTS="${SIGNALBOX_JAVA_OPTS:-}"
[[ "${NMT:-0}" == 1 ]] && SIGNALBOX_JAVA_OPTS="$SIGNALBOX_JAVA_OPTS -XX:NativeMemoryTracking=summary"
"$home/bin/signalbox" start >/dev/null
pid="$(cat "$home/data/signalbox.pid")"
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

summary="$work/summary.txt"
# peak anonymous (heap, malloc, thread stacks) and file-backed (libraries, jars, CDS archive) RSS
( peak_anon=0; peak_file=0
  while [[ -r "/proc/$pid/status" ]]; do
    read -r a f < <(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {print a+0, f+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
    (( a > peak_anon )) && peak_anon=$a; (( f > peak_file )) && peak_file=$f
    echo "$peak_anon $peak_file" > "$work/rss_peaks"
    [[ -n "${RSS_SERIES:-}" ]] && echo "$SECONDS $((a / 1024)) $((f / 1024))" >> "$RSS_SERIES"
    sleep 0.5
  done ) 2>/dev/null &
sampler=$!
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
# METRICS=<file>: the sidecar's /metrics right after the measured phase (channels, spool, store)
[[ -n "${METRICS:-}" ]] && { curl -s --max-time 10 "http://127.0.0.1:$http_port/metrics" > "$METRICS" || echo "METRICS: /metrics not read" >&2; }
rss_kib="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
rss_end="$(awk '/^(VmRSS|RssAnon|RssFile)/ {printf "%s%d ", $1, $2 / 1024}' "/proc/$pid/status")"
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
[[ "${NMT:-0}" == 1 ]] && { jcmd "$pid" VM.native_memory summary scale=MB 2>/dev/null \
  | sed -n 's/^-  *\([A-Za-z ]*[A-Za-z]\) *(reserved=[0-9]*MB, committed=\([0-9]*\)MB).*/nmt_committed_mib \1=\2/p; s/^Total: reserved=[0-9]*MB, committed=\([0-9]*\)MB.*/nmt_committed_mib Total=\1/p' \
  | tr ' ' '_' | sed 's/^nmt_committed_mib_/nmt_committed_mib /' > "$work/nmt.txt" || true; }
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
[[ -s "$work/rss_peaks" ]] && read -r pa pf < "$work/rss_peaks" && echo "sidecar_peak_rss_anon_mib=$((pa / 1024)) sidecar_peak_rss_file_mib=$((pf / 1024))"
echo "sidecar_rss_at_end_mib: $rss_end"
[[ -s "$work/nmt.txt" ]] && cat "$work/nmt.txt"
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
