#!/usr/bin/env bash
# Kafka benchmark (issue 17), on the assembled distribution with a real Apache Kafka broker (KRaft,
# one node, from the org.apache.kafka jars in ~/.m2 — the same artifacts KafkaBroker runs in the tests)
# on this machine:
#
#   1. edge: TCP → Kafka. One sidecar, the Kafka backend (optional/ → deploy/, shipped defaults:
#      acks=all, idempotent, lz4, key=tid) as the only route; io.signalbox.load.LoadGenerator sends
#      --warmup messages, then --messages; measured from the generator's start until the sidecar's
#      signalbox_kafka_records_total says Kafka acknowledged every one.
#   2. aggregators: Kafka → file. The topic now holds the measured messages; 1, then 2 aggregator
#      sidecars (the Kafka transport, one consumer group per run, from the earliest offset) write them
#      to files. Both members of a run join before the first assignment (the broker's
#      group.initial.rebalance.delay.ms); measured from the first line on disk until every message is
#      written (signalbox_backend_messages_written_total{backend="files"}), then checked on disk:
#      every message exactly once.
#
# Prints msg/s, the CPU seconds (user + system) of every sidecar and of the broker during each
# measurement, and the sidecars' peak RSS.
#
#   mvn -B -DskipTests package          # distribution/target/signalbox and load/target/benchmarks.jar
#   load/bench-kafka.sh [--messages 1000000] [--warmup 200000] [--connections 4] [--sources 8]
#
# Environment: METRICS_STORE (default off here: 30 % of the generated messages are metrics, and
# storing them is not what this measures; compare with METRICS_STORE=off load/bench-tcp-to-file.sh),
# SIGNALBOX_CDS (default off: no class-data archive job after each copy's first start),
# FLUSH_MS (correlation flush.interval.ms, default 250), EDGE_EXTRA (lines added to the edge's
# correlation configuration, e.g. "batch.size=1000"), EDGE_ROUTING (lines of the edge's
# etc/io.signalbox.routing.cfg, e.g. "max.in.flight=1" for one batch at a time), EDGE_KAFKA (lines
# added to the edge's Kafka backend configuration, e.g. "linger.ms=0"), EDGE_ONLY=1 (no
# aggregator runs), KEEP=1 keeps the temp folder.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_build

messages=1000000
warmup=200000
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections|--sources) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export METRICS_STORE="${METRICS_STORE:-off}"
# no class-data archive job after the first start of each copy (a JVM of its own competing for the cores)
export SIGNALBOX_CDS="${SIGNALBOX_CDS:-off}"

# the broker's class path: kafka_2.13 and its dependencies, as the Kafka backend's tests use them
broker_cp_file="$here/target/kafka-broker.classpath"
if [[ ! -s "$broker_cp_file" ]]; then
  (cd "$root" && mvn -B -q dependency:build-classpath -pl bundles/backend-kafka -Dmdep.includeScope=test \
    -Dmdep.outputFile="$broker_cp_file") || { echo "could not resolve the Kafka broker's class path" >&2; exit 2; }
fi

work="$(mktemp -d -t signalbox-kafka-bench.XXXXXX)"
sidecars=()
broker_pid=""
cleanup() {
  for h in "${sidecars[@]}"; do "$h/bin/signalbox" stop >/dev/null 2>&1 || true; done
  [[ -n "$broker_pid" ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

tck="$(getconf CLK_TCK)"
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$1:.2f}')"; }

# --- the broker ------------------------------------------------------------------------------
kport="$(free_port)"; cport="$(free_port)"
mkdir -p "$work/kafka/logs"
cat > "$work/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$kport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$kport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$work/kafka/logs
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=5000
EOF
bcp="$(cat "$broker_cp_file")"
java -cp "$bcp" kafka.tools.StorageTool format -t "$(python3 -c 'import uuid,base64; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')" \
  -c "$work/kafka/server.properties" > "$work/kafka/format.out" 2>&1 || { cat "$work/kafka/format.out" >&2; exit 1; }
java -Xms256m -Xmx1g -cp "$bcp" kafka.Kafka "$work/kafka/server.properties" > "$work/kafka/broker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$kport") 2>/dev/null && break
  kill -0 "$broker_pid" 2>/dev/null || { tail -40 "$work/kafka/broker.out" >&2; exit 1; }
  sleep 0.2
done
bootstrap="127.0.0.1:$kport"
echo "broker: $bootstrap (pid $broker_pid)"

# --- sidecars --------------------------------------------------------------------------------
# sidecar <name>: a copy of the distribution in $work/<name> with free TCP and HTTP ports; prints its folder
sidecar() {
  local h="$work/$1"
  cp -a "$dist" "$h"
  rm -rf "$h/data" "$h/log"; mkdir -p "$h/data" "$h/log"
  if [[ "$METRICS_STORE" == off ]]; then
    rm -f "$h/etc/io.signalbox.route-metrics.cfg" "$h/etc/io.signalbox.metrics.store.cfg" "$h/etc/io.signalbox.alerting.cfg"
    sed -i -e 's#reference:file:system/io.signalbox.metrics.store.jar##' -e 's#reference:file:system/io.signalbox.alerting.jar##' "$h/conf/config.properties"
  fi
  sed -i "s/^port *=.*/port=$(free_port)/" "$h/etc/io.signalbox.transport.tcp.cfg"
  sed -i "s/^port *=.*/port=$(free_port)/" "$h/etc/io.signalbox.http.cfg"
  printf 'flush.interval.ms=%s\n' "${FLUSH_MS:-250}" > "$h/etc/io.signalbox.correlation.cfg"
  echo "$h"
}
port_of() { sed -n 's/^port=//p' "$1/etc/io.signalbox.$2.cfg"; }
# metric <folder> <name> <label value>: the value, 0 when not there (yet)
metric() {
  curl -s "http://127.0.0.1:$(port_of "$1" http)/metrics" | awk -v n="$2" -v l="\"$3\"" \
    'index($0, n "{") == 1 && index($0, l) { v = $NF } END { print (v == "" ? 0 : v) }'
}
start() {  # the caller has put $1 into sidecars (cleanup stops them; this may run in a subshell)
  SIGNALBOX_JAVA_OPTS="${SIGNALBOX_JAVA_OPTS:-}" "$1/bin/signalbox" start >/dev/null
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$(port_of "$1" http)/health" && return 0
    sleep 0.1
  done
  echo "$1 did not start" >&2; tail -40 "$1/log/signalbox.log" >&2; exit 1
}
pid_of() { cat "$1/data/signalbox.pid"; }
rss_mib() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }

# --- 1. edge: TCP → Kafka ---------------------------------------------------------------------
edge="$(sidecar edge)"
cp "$edge/optional/io.signalbox.backend.kafka.jar" "$edge/deploy/"
printf 'bootstrap.servers=%s\ntopic=bench\n' "$bootstrap" > "$edge/etc/io.signalbox.backend.kafka-bus.cfg"
[[ -n "${EDGE_KAFKA:-}" ]] && printf '%s\n' "$EDGE_KAFKA" >> "$edge/etc/io.signalbox.backend.kafka-bus.cfg"
printf 'source="default"\nbackends=["bus"]\n' > "$edge/etc/io.signalbox.route-default.cfg"
[[ -n "${EDGE_EXTRA:-}" ]] && printf '%s\n' "$EDGE_EXTRA" >> "$edge/etc/io.signalbox.correlation.cfg"
[[ -n "${EDGE_ROUTING:-}" ]] && printf '%s\n' "$EDGE_ROUTING" > "$edge/etc/io.signalbox.routing.cfg"
sidecars+=("$edge")
start "$edge"
for _ in $(seq 1 300); do grep -q "backend bus bound" "$edge/log/signalbox.log" && break; sleep 0.1; done
edge_pid="$(pid_of "$edge")"
eport="$(port_of "$edge" transport.tcp)"

# send <source prefix> <messages>: generator, then wait until Kafka acknowledged them all; prints seconds
send() {
  local before target t0 t1
  before="$(metric "$edge" signalbox_kafka_records_total bus)"
  target=$(python3 -c "print(int($before) + $2)")
  t0="$(now)"
  java -Xmx256m -cp "$jar" io.signalbox.load.LoadGenerator --port "$eport" --source-prefix "$1" --messages "$2" \
    "${args[@]}" --summary "$work/gen-$1.txt" 2>>"$work/generator.log" || { cat "$work/generator.log" >&2; exit 1; }
  for _ in $(seq 1 6000); do
    [[ "$(python3 -c "print(int($(metric "$edge" signalbox_kafka_records_total bus)) >= $target)")" == True ]] && break
    sleep 0.1
  done
  t1="$(now)"
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}
if [[ "$warmup" -gt 0 ]]; then
  s="$(send warmup "$warmup")"
  echo "edge_cold_msgs_per_s=$(python3 -c "print(round($warmup / $s))") (warm-up, $warmup messages)"
fi
base_records="$(metric "$edge" signalbox_kafka_records_total bus)"
e0="$(cpu_ticks "$edge_pid")"; b0="$(cpu_ticks "$broker_pid")"
s="$(send load "$messages")"
e1="$(cpu_ticks "$edge_pid")"; b1="$(cpu_ticks "$broker_pid")"
echo "edge_messages=$messages edge_seconds=$s edge_msgs_per_s=$(python3 -c "print(round($messages / $s))")"
echo "edge_cpu_seconds=$(secs "($e1 - $e0) / $tck") broker_cpu_seconds=$(secs "($b1 - $b0) / $tck") edge_peak_rss_mib=$(rss_mib "$edge_pid")"
# a burst above the backend's rate spills to the edge's disk spool (channel.spill.after.ms), replayed one batch at a time
echo "edge_spooled_messages=$(metric "$edge" signalbox_spool_appended_messages_total bus) (warm-up included)"
grep -E '^(send_msgs_per_s|avg_line_bytes)=' "$work/gen-load.txt" | sed 's/^/generator_/'
"$edge/bin/signalbox" stop >/dev/null
total_in_topic=$(python3 -c "print(int($(python3 -c "print($base_records + $messages)")) + 0)")
if [[ "${EDGE_ONLY:-0}" == 1 ]]; then
  echo "OK: every message acknowledged by Kafka (EDGE_ONLY: no aggregator runs)"
  exit 0
fi

# --- 2. aggregators: Kafka → file, 1 then 2 ---------------------------------------------------
# the topic holds warm-up + measured messages; each run reads all of them with a group of its own
aggregate() {  # aggregate <instances>
  local n="$1" hs=() pids=() c0=() t_first="" t0 t1 written b0 b1
  for i in $(seq 1 "$n"); do
    local h; h="$(sidecar "agg$n-$i")"
    cp "$h/optional/io.signalbox.transport.kafka.jar" "$h/deploy/"
    printf 'bootstrap.servers=%s\ntopics=["bench"]\ngroup.id=bench-%s\n' "$bootstrap" "$n" \
      > "$h/etc/io.signalbox.transport.kafka-bus.cfg"
    hs+=("$h")
  done
  # started together: the coordinator's initial rebalance delay lets both join the first generation
  local starting=()
  for h in "${hs[@]}"; do sidecars+=("$h"); start "$h" & starting+=($!); done
  for p in "${starting[@]}"; do wait "$p"; done
  for h in "${hs[@]}"; do pids+=("$(pid_of "$h")"); c0+=("$(cpu_ticks "$(pid_of "$h")")"); done
  b0="$(cpu_ticks "$broker_pid")"
  t0="$(now)"
  written_now() { local sum=0 h; for h in "${hs[@]}"; do sum=$(python3 -c "print(int($sum + $(metric "$h" signalbox_backend_messages_written_total files)))"); done; echo "$sum"; }
  for _ in $(seq 1 12000); do
    written="$(written_now)"
    if [[ -z "$t_first" && "$written" -gt 0 ]]; then t_first="$(now)"; first_written="$written"; fi
    [[ "$written" -ge "$total_in_topic" ]] && break
    sleep 0.1
  done
  t1="$(now)"
  b1="$(cpu_ticks "$broker_pid")"
  local cpu="" rss="" per=""
  for i in "${!hs[@]}"; do
    cpu+="$(secs "($(cpu_ticks "${pids[$i]}") - ${c0[$i]}) / $tck") "
    rss+="$(rss_mib "${pids[$i]}") "
    per+="$(metric "${hs[$i]}" signalbox_backend_messages_written_total files) "
  done
  echo "aggregators=$n messages=$((total_in_topic - first_written)) seconds=$(secs "$t1 - $t_first") msgs_per_s=$(python3 -c "print(round(($total_in_topic - $first_written) / ($t1 - $t_first)))") (from the first line on disk; $(secs "$t_first - $t0") s from start to it)"
  echo "aggregators=$n cpu_seconds=[${cpu% }] broker_cpu_seconds=$(secs "($b1 - $b0) / $tck") peak_rss_mib=[${rss% }] written_per_instance=[${per% }]"
  for h in "${hs[@]}"; do "$h/bin/signalbox" stop >/dev/null; done
  local on_disk unique
  on_disk="$(for h in "${hs[@]}"; do find "$h/data/files" -name '*.jsonl' -exec cat {} +; done | wc -l)"
  unique="$(for h in "${hs[@]}"; do find "$h/data/files" -name '*.jsonl' -exec cat {} +; done | sort -u | wc -l)"
  echo "aggregators=$n lines_on_disk=$on_disk unique=$unique"
  if [[ "$on_disk" != "$total_in_topic" || "$unique" != "$total_in_topic" ]]; then
    echo "FAILED: expected exactly $total_in_topic lines, each once" >&2; exit 1
  fi
}
aggregate 1
aggregate 2
echo "OK: every message acknowledged by Kafka, and on disk exactly once after each aggregator run"
