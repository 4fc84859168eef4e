#!/usr/bin/env bash
# Metrics store benchmark (issue 15): ingest points/s of canonical metric lines through the store's
# batch path (scanner, series interning, sorted Appender drain), compaction, bytes per point on disk,
# and query times over the ingested points. Runs StoreBenchmark (a JUnit test skipped in normal
# builds) in bundles/metrics-store with a real DuckDB in a temp folder. 100,000,000 points (the
# aggregate target) takes minutes: load/bench-metrics-store.sh 100000000. MEMORY_MB: DuckDB's limit, THREADS: its threads (default 2, the shipped value).
#   load/bench-metrics-store.sh [POINTS [SERIES]]      default 10,000,000 points in 1,000 series
# Prints the BENCH lines; no timed asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS="${1:-10000000}"
SERIES="${2:-1000}"
mvn -B -q verify -pl bundles/metrics-store -am -Dtest=StoreBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
    -Dbench.points="$POINTS" -Dbench.series="$SERIES" -Dbench.memory.mb="${MEMORY_MB:-1024}" -Dbench.threads="${THREADS:-2}" -DargLine="-Xmx2g" 2>&1 | grep -E "BENCH|ERROR|FAIL" 
