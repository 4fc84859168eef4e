# Shared by the load scripts (sourced, not run): where the assembled distribution and the load
# generator are, a fresh copy of the distribution in a temp folder (stopped and removed on exit,
# kept with KEEP=1), and free local ports.
#
#   source "$(dirname "$0")/lib.sh"
#   need_build                   # exits 2 with a hint when distribution or generator are missing
#   fresh_copy signalbox-bench   # sets work (the temp folder) and home (the copy's root)

here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(dirname "$here")"
dist="${SIGNALBOX_DIST:-$root/distribution/target/signalbox}"
jar="$here/target/benchmarks.jar"

need_build() {
  [[ -x "$dist/bin/signalbox" && -f "$jar" ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cleanup_copy() {
  "$work/signalbox/bin/signalbox" stop >/dev/null 2>&1 || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}

# fresh_copy <temp folder prefix>: the distribution copied to $work/signalbox ($home), without
# data/ or log/ from an earlier run
fresh_copy() {
  work="$(mktemp -d -t "$1.XXXXXX")"
  trap cleanup_copy EXIT
  cp -a "$dist" "$work/signalbox"
  home="$work/signalbox"
  rm -rf "$home/data" "$home/log"; mkdir -p "$home/data" "$home/log"
  # METRICS_STORE=off: the A/B of the metrics store (issue 15): its route, configuration and bundle
  # (and alerting, which needs it) are removed from the copy
  if [[ "${METRICS_STORE:-on}" == off ]]; then
    rm -f "$home/etc/io.signalbox.route-metrics.cfg" "$home/etc/io.signalbox.metrics.store.cfg" "$home/etc/io.signalbox.alerting.cfg"
    sed -i -e 's#reference:file:system/io.signalbox.metrics.store.jar##' -e 's#reference:file:system/io.signalbox.alerting.jar##' "$home/conf/config.properties"
  fi
}
