#!/usr/bin/env bash
# Metrics store benchmark (issue 15): ingest points/s through DuckDB's Appender, bytes per point on
# disk, and query times over the ingested points. Runs StoreBenchmark (a JUnit test skipped in
# normal builds) in bundles/metrics-store with a real DuckDB in a temp folder.
#   load/bench-metrics-store.sh [POINTS [SERIES]]      default 10,000,000 points in 1,000 series
# Prints the BENCH lines; no timed asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS="${1:-10000000}"
SERIES="${2:-1000}"
mvn -B -q test -pl bundles/metrics-store -Dtest=StoreBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
    -Dbench.points="$POINTS" -Dbench.series="$SERIES" -DargLine="-Xmx2g" 2>&1 | grep -E "BENCH|ERROR|FAIL" 
