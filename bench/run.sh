#!/bin/sh
# Runs the whole-process benchmark: builds the helper and the reference
# programs, starts a private gnome-keyring, and prints medians, p90 and max RSS.
#   bench/run.sh                  200 interleaved runs per case
#   GLPAT_BENCH_RUNS=50 bench/run.sh
set -eu
cd "$(dirname "$0")/.."
exec go test ./bench -run '^$' -bench . -benchtime 1x -count 1 -timeout 30m
