#!/usr/bin/env bash
# Seed 004's demo.sh against Signalbox: ingest cpu, memory and error-rate samples with POST /metrics,
# query them by name and time range with GET /query, then ask the Prometheus API what an alert rule
# would ask ("avg cpu_usage over the last minute > 80"). Alerting itself is its own issue: until it
# lands, the last step shows the condition being true, not a notification.
#
# Needs a running sidecar (bin/signalbox start) and curl. SIGNALBOX_HTTP=host:port picks the HTTP
# address (default 127.0.0.1:17001). Exit status 0 only if every step saw what it expected.
set -euo pipefail

HTTP="${SIGNALBOX_HTTP:-127.0.0.1:17001}"
BASE="http://$HTTP"
SOURCE="${DEMO_SOURCE:-demo-$$}"

step() { printf '\n== %s\n' "$*"; }
fail() { echo "metrics-demo: $*" >&2; exit 1; }

curl -fsS "$BASE/health" >/dev/null || fail "no sidecar answers at $BASE (bin/signalbox start?)"

NOW=$(( $(date +%s) * 1000 ))
START=$(( NOW - 300000 ))   # 5 minutes ago, as in 004's demo

step "1. Ingest metrics (POST /metrics)"
for v in 85 88 91; do
    curl -fsS -X POST "$BASE/metrics" -H 'Content-Type: application/json' \
        -d "{\"name\":\"cpu_usage\",\"value\":$v,\"source\":\"$SOURCE\"}"; echo
done
curl -fsS -X POST "$BASE/metrics" -H 'Content-Type: application/json' \
    -d "{\"name\":\"memory_usage\",\"value\":75,\"source\":\"$SOURCE\"}"; echo
curl -fsS -X POST "$BASE/metrics" -H 'Content-Type: application/json' \
    -d "[{\"name\":\"error_rate\",\"value\":2.5,\"source\":\"$SOURCE\"},{\"name\":\"error_rate\",\"value\":7.5,\"source\":\"$SOURCE\",\"tags\":{\"endpoint\":\"/checkout\"}}]"; echo

step "2. Query by name and time range (GET /query)"
# points reach the store after the pipeline's flush (correlation batches, then the store's commit)
cpu=""
for _ in $(seq 1 60); do
    cpu=$(curl -fsS "$BASE/query?name=cpu_usage&start=$START&end=$(( NOW + 60000 ))")
    [ "$(grep -o "\"source\":\"$SOURCE\"" <<<"$cpu" | wc -l)" -ge 3 ] && break
    sleep 1
done
echo "cpu_usage:    $cpu"
[ "$(grep -o "\"source\":\"$SOURCE\"" <<<"$cpu" | wc -l)" -ge 3 ] || fail "cpu_usage samples did not show up in /query"
echo "memory_usage: $(curl -fsS "$BASE/query?name=memory_usage&start=$START&end=$(( NOW + 60000 ))")"
echo "error_rate:   $(curl -fsS "$BASE/query?name=error_rate&start=$START&end=$(( NOW + 60000 ))")"

step "3. Aggregate with PromQL (GET /api/v1/query)"
avg=$(curl -fsS --get "$BASE/api/v1/query" --data-urlencode "query=avg_over_time(cpu_usage{source=\"$SOURCE\"}[5m])")
echo "avg_over_time(cpu_usage[5m]): $avg"
grep -q '"value":\[[0-9.]*,"88"\]' <<<"$avg" || fail "expected an average cpu_usage of 88"

step "4. Alert condition: avg cpu_usage over 5m > 80 and max error_rate > 5"
alert=$(curl -fsS --get "$BASE/api/v1/query" --data-urlencode "query=avg_over_time(cpu_usage{source=\"$SOURCE\"}[5m]) > 80")
errors=$(curl -fsS --get "$BASE/api/v1/query" --data-urlencode "query=max_over_time(error_rate{source=\"$SOURCE\"}[5m]) > 5")
if grep -q '"result":\[{' <<<"$alert"; then
    echo "ALERT cpu_usage avg(5m) > 80 (current: 88) would fire for $SOURCE"
else
    fail "the cpu_usage alert condition is not true"
fi
if grep -q '"endpoint":"/checkout"' <<<"$errors"; then
    echo "ALERT error_rate > 5 (current: 7.5) would fire for $SOURCE endpoint=/checkout"
else
    fail "the error_rate alert condition is not true"
fi
echo
echo "(notifications: see the alerting issue; this demo shows the conditions an alert rule evaluates)"
