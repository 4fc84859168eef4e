#!/usr/bin/env bash
#
# run_demo.sh — the Perl demo application on a private copy of the Signalbox distribution.
#
#   examples/run_demo.sh             from anywhere; needs perl 5.10+, a JDK 17+, and Maven if the
#                                    distribution is not built yet
#
# What it does:
#   1. builds what is missing (distribution/target/signalbox, with Maven);
#   2. copies the distribution into a demo folder, gives it free ports and starts it;
#   3. runs the application: config-service (checks demo.conf), queue-service (in the background),
#      file-receiver (takes four CSV files from the inbox and queues one job each); queue-service
#      runs db-loader for each job, db-loader asks config-service for its settings. One job, one
#      trace across the four programs (job_id → trace id, SIGNALBOX_TRACE to child processes, the
#      trace context in the queued job record). invoices-1.csv fails on purpose (no such table).
#   4. shows the unified trace of one job: `bin/signalbox trace` where the distribution has it,
#      else read from the file backend's JSONL files (examples/show-trace);
#   5. stops the sidecar (a graceful stop flushes everything to data/files/) and prints where the
#      data landed; on any exit (also Ctrl-C) it stops what it started.
#
# Environment:
#   SIGNALBOX_DIST       the assembled distribution to copy (default distribution/target/signalbox,
#                        built with Maven when it is missing)
#   DEMO_DIR             the demo folder (default: a new folder under $TMPDIR or /tmp); kept afterwards
#   DEMO_TIMEOUT         seconds the application may take (default 120)
#   SIGNALBOX_JAVA_OPTS  JVM options for the sidecar (default -Xmx256m)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dist=${SIGNALBOX_DIST:-$root/distribution/target/signalbox}
demo=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/signalbox-demo.XXXXXX")}
timeout=${DEMO_TIMEOUT:-120}
export SIGNALBOX_JAVA_OPTS=${SIGNALBOX_JAVA_OPTS:--Xmx256m}
mkdir -p "$demo"
demo=$(cd "$demo" && pwd)
sb=$demo/signalbox
app=$demo/app

say() { printf '\n== %s\n' "$*"; }
die() { echo "run_demo.sh: $*" >&2; exit 1; }

# --- what runs when the script ends, however it ends ----------------------------------------------
queue_pid=
started=0
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ -n "$queue_pid" ] && kill -0 "$queue_pid" 2>/dev/null; then
        kill -TERM "$queue_pid" 2>/dev/null || true
        wait "$queue_pid" 2>/dev/null || true
    fi
    if [ "$started" = 1 ]; then
        "$sb/bin/signalbox" stop >/dev/null || echo "run_demo.sh: could not stop the sidecar in $sb" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. build what is missing ---------------------------------------------------------------------
command -v perl >/dev/null || die "perl is needed"
perl -e 'use 5.010; use JSON::PP; use Time::HiRes; use IO::Socket::INET; 1' || die "perl 5.10+ with JSON::PP is needed"
if [ ! -x "$dist/bin/signalbox" ]; then
    [ -z "${SIGNALBOX_DIST:-}" ] || die "SIGNALBOX_DIST=$SIGNALBOX_DIST has no bin/signalbox"
    say "building the distribution (mvn package -pl distribution -am)"
    command -v mvn >/dev/null || die "no distribution in $dist and no mvn to build it"
    (cd "$root" && { mvn -B -q -o package -DskipTests -pl distribution -am ||
        mvn -B -q package -DskipTests -pl distribution -am; }) || die "the build failed"
fi

# --- 2. a private copy of the distribution on free ports ------------------------------------------
free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'
}
say "starting a copy of the sidecar in $sb"
if [ -f "$sb/data/signalbox.pid" ] && "$sb/bin/signalbox" status >/dev/null 2>&1; then
    die "a sidecar from an earlier run still runs in $sb: $sb/bin/signalbox stop"
fi
rm -rf "$sb" "$app"
mkdir -p "$sb"
(cd "$dist" && tar cf - --exclude=./data --exclude=./log .) | (cd "$sb" && tar xf -)
mkdir -p "$sb/data" "$sb/log"
tcp_port=$(free_port)
perl -pi -e "s/^port\\s*=.*/port=$tcp_port/" "$sb/etc/io.signalbox.transport.tcp.cfg"
if [ -f "$sb/etc/io.signalbox.http.cfg" ]; then
    http_port=$(free_port)
    perl -pi -e "s/^port\\s*=.*/port=$http_port/" "$sb/etc/io.signalbox.http.cfg"
fi
"$sb/bin/signalbox" start
started=1
perl -MIO::Socket::INET -e '
    for (1 .. 600) { exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 1); select undef, undef, undef, 0.1 }
    exit 1' "$tcp_port" || die "the sidecar does not listen on 127.0.0.1:$tcp_port; see $sb/log/signalbox.log"
echo "listening on 127.0.0.1:$tcp_port"

# --- 3. the application ---------------------------------------------------------------------------
mkdir -p "$app/inbox"
perl -e '
    my $dir = shift;
    sub csv { my ($name, $head, @rows) = @_; open my $f, ">", "$dir/$name" or die $!; print $f join("\n", $head, @rows), "\n" }
    csv("orders-1.csv", "order_id,customer_id,amount", map { join ",", 1000 + $_, 1 + $_ % 12, sprintf "%.2f", 10 + 3.7 * $_ } 1 .. 30);
    csv("customers-1.csv", "customer_id,name,city", (map { "$_,Customer $_,City " . ($_ % 4) } 1 .. 12), "13,broken row");
    csv("orders-2.csv", "order_id,customer_id,amount", map { join ",", 2000 + $_, 1 + $_ % 12, sprintf "%.2f", 5 + 1.3 * $_ } 1 .. 80);
    csv("invoices-1.csv", "invoice_id,order_id,total", map { "$_,10$_,9.99" } 1 .. 5);
' "$app/inbox"

export SIGNALBOX_HOST=127.0.0.1 SIGNALBOX_PORT=$tcp_port
unset SIGNALBOX_TRACE TRACEPARENT SIGNALBOX_SOURCE
say "config-service: checking demo.conf"
perl "$here/config-service" --check "$here/demo.conf"

say "queue-service (background) and file-receiver"
perl "$here/queue-service" --config "$here/demo.conf" --work "$app" --until-done > "$demo/queue-service.log" 2>&1 &
queue_pid=$!
perl "$here/file-receiver" --config "$here/demo.conf" --work "$app" --done | tee "$demo/jobs.txt"
waited=0
while kill -0 "$queue_pid" 2>/dev/null; do
    [ "$waited" -lt $((timeout * 10)) ] || die "queue-service did not finish within ${timeout} s; see $demo/queue-service.log"
    sleep 0.1
    waited=$((waited + 1))
done
wait "$queue_pid" || die "queue-service failed; see $demo/queue-service.log"
queue_pid=
sed 's/^/queue-service: /' "$demo/queue-service.log"

# --- 4. the trace of one job ------------------------------------------------------------------------
job=$(sed -n 's/^queued \(job-orders-2-[^ ]*\).*/\1/p' "$demo/jobs.txt" | head -n 1)
[ -n "$job" ] || die "file-receiver queued no orders-2 job; see $demo/jobs.txt"
shown=0
if grep -q 'trace ID' "$sb/bin/signalbox" && [ -f "$sb/etc/io.signalbox.http.cfg" ]; then
    say "the trace of $job: bin/signalbox trace $job"
    # the four programs' spans reach the sidecar's trace store within moments: wait until all are there
    for _ in $(seq 1 100); do
        if out=$("$sb/bin/signalbox" trace "$job" 2>&1) && printf '%s' "$out" | grep -q 'config-service' &&
            printf '%s' "$out" | grep -q 'db-loader'; then
            printf '%s\n' "$out"
            shown=1
            break
        fi
        sleep 0.2
    done
    [ "$shown" = 1 ] || echo "(bin/signalbox trace did not show the whole trace: ${out:-no output}; reading the files instead)"
fi

# --- 5. stop the sidecar (flushes every buffer to the files), then where the data landed ----------
say "stopping the sidecar (graceful: every buffer is flushed to its backend)"
"$sb/bin/signalbox" stop
started=0

if [ "$shown" = 0 ]; then
    say "the trace of $job, read from the file backend ($sb/data/files)"
    perl "$here/show-trace" "$sb/data/files" "$job"
fi

say "where the data landed"
echo "the application's database ($app/db):"
for f in "$app"/db/*.tsv; do
    printf '  %-52s %5d rows\n' "${f#"$demo"/}" $(($(wc -l < "$f") - 1))
done
echo "the sidecar's file backend ($sb/data/files, one JSONL file per source and day):"
find "$sb/data/files" -name '*.jsonl' | sort | while read -r f; do
    printf '  %-52s %5d lines\n' "${f#"$demo"/}" "$(wc -l < "$f")"
done
echo "logs: $demo/queue-service.log, $sb/log/signalbox.log; everything stays in $demo"
