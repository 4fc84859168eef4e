#!/usr/bin/env bash
# A route naming many backends (issue 12, "bounded threads"): starts the assembled distribution
# (shipped defaults), drops a route that names N backends none of which is deployed (their
# channels wait), and reports the sidecar's threads, RSS, idle CPU, the time of GET /metrics,
# then deletes the route and reports the same after the channels are swept (two sweeps, ~60 s),
# and finally the time `bin/signalbox stop` takes.
#
#   mvn -B -DskipTests package
#   load/many-backends.sh [N=10000]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_build
n="${1:-10000}"

fresh_copy signalbox-many
tcp="$(free_port)"; http="$(free_port)"
sed -i "s/^port *=.*/port=$tcp/" "$home/etc/io.signalbox.transport.tcp.cfg"
sed -i "s/^port *=.*/port=$http/" "$home/etc/io.signalbox.http.cfg"

"$home/bin/signalbox" start >/dev/null
pid="$(cat "$home/data/signalbox.pid")"
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$http/health" >/dev/null && break; sleep 0.1; done

threads() { awk '/^Threads:/ {print $2}' "/proc/$pid/status"; }
rss_mib() { awk '/^VmRSS:/ {printf "%d", $2/1024}' "/proc/$pid/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
idle_cpu_pct() { # share of one core used over 10 s
  local a b; a="$(cpu_ticks)"; sleep 10; b="$(cpu_ticks)"
  python3 -c "print(f'{($b-$a)/$(getconf CLK_TCK)/10*100:.1f}')"
}
metrics_ms() {
  python3 - "$http" <<'PY'
import sys, time, urllib.request
t = time.monotonic(); body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=120).read()
print(f"{(time.monotonic()-t)*1000:.0f} {body.count(b'signalbox_channel_waiting_for_backend{')}")
PY
}
# five scrapes after a first one: wall time median and best, and the sidecar's CPU per scrape
# (less sensitive to a busy machine than wall time)
scrapes() {
  local m a b walls=() i
  metrics_ms >/dev/null
  a="$(cpu_ticks)"
  for i in 1 2 3 4 5; do m="$(metrics_ms)"; walls+=("${m% *}"); done
  b="$(cpu_ticks)"
  python3 -c "import sys,statistics as s; w=sorted(map(int,sys.argv[1:6])); print(f'metrics_ms_median={s.median(w):.0f} metrics_ms_best={w[0]} metrics_cpu_ms={($b-$a)*1000/$(getconf CLK_TCK)/5:.0f} channels=${m#* }')" "${walls[@]}"
}
report() {
  printf '%-28s threads=%s rss_mib=%s %s idle_cpu_pct=%s\n' "$1" "$(threads)" "$(rss_mib)" "$(scrapes)" "$(idle_cpu_pct)"
}

report "started (no route)"
names="$(python3 -c "import sys; print(','.join(f'\"b{i}\"' for i in range(int(sys.argv[1]))))" "$n")"
printf 'source="*"\nbackends=[%s]\n' "$names" > "$home/etc/io.signalbox.route-wide.cfg"
rm -f "$home/etc/io.signalbox.route-default.cfg"
for _ in $(seq 1 600); do
  [[ "$(metrics_ms | cut -d' ' -f2)" -ge "$n" ]] && break; sleep 0.5
done
report "route naming $n backends"
rm -f "$home/etc/io.signalbox.route-wide.cfg"
sleep 65 # two sweeps (every 30 s): a channel is closed when seen unused twice
report "route deleted, swept"
t0="$(date +%s.%N)"
"$home/bin/signalbox" stop >/dev/null
t1="$(date +%s.%N)"
python3 -c "print(f'stop_seconds={$t1-$t0:.2f}')"
