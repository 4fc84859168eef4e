#!/usr/bin/env bash
# Start-up time as a user sees it: from `bin/signalbox start` (fresh copy of the distribution, empty
# Felix cache, shipped defaults) until the TCP port accepts, and until a first line (an error event,
# which correlation flushes at once) is in the file backend's output. Several rounds; prints one line each.
#
#   mvn -B -DskipTests package && load/startup.sh [rounds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="$(dirname "$here")/distribution/target/signalbox"
[[ -x "$dist/bin/signalbox" ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
rounds="${1:-3}"
work="$(mktemp -d -t signalbox-startup.XXXXXX)"
trap '"$work/s/bin/signalbox" stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cp -a "$dist" "$work/s"
home="$work/s"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
sed -i "s/^port *=.*/port=$port/" "$home/etc/io.signalbox.transport.tcp.cfg"
sed -i "s/^port *=.*/port=$(free_port)/" "$home/etc/io.signalbox.http.cfg"
for round in $(seq 1 "$rounds"); do
  rm -rf "$home/data" "$home/log"; mkdir -p "$home/data" "$home/log"
  t0=$EPOCHREALTIME
  "$home/bin/signalbox" start >/dev/null &
  starter=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.01; done
  t1=$EPOCHREALTIME
  printf '{"v":1,"src":"startup","ts":1763900000000,"type":"event","data":{"level":"error","msg":"first"}}\n' \
    > "/dev/tcp/127.0.0.1/$port"
  until [[ -n "$(find "$home/data/files" -name '*.jsonl' -size +0 2>/dev/null)" ]]; do sleep 0.01; done
  t2=$EPOCHREALTIME
  wait "$starter"
  awk -v r="$round" -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN {printf "round %d: port accepting %.2f s, first line on disk %.2f s after bin/signalbox start\n", r, b - a, c - a}'
  "$home/bin/signalbox" stop >/dev/null
done
