#!/usr/bin/env bash
# Scale mode of bench/run.sh: `timesync seed --times 1000000`, then the
# latency of GET /v0/times?limit=25, a user's date range and the summary by
# project and week at one connection, and the seeding time (release build).
# Writes bench/results-scale.md. Same knobs as run.sh (BENCH_TIMES, BENCH_BACKENDS, ...).
set -euo pipefail
BENCH_MODE=scale exec "$(dirname "$0")/run.sh"
