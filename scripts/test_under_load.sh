#!/usr/bin/env bash
# Runs the whole test suite (quick and slow tiers) while one busy process per CPU competes
# for the machine: a test that decides by the clock or the machine's speed fails here.
#   bash scripts/test_under_load.sh [ROUNDS]     (default 1 round; the docs report 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
busy=()
cleanup() { [ ${#busy[@]} -eq 0 ] || kill "${busy[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq "$(nproc)"); do
  python3 -c 'while True: pass' &
  busy+=($!)
done
for round in $(seq "$rounds"); do
  echo "== round $round of $rounds, $(nproc) busy processes beside the tests"
  start=$(date +%s)
  .venv/bin/python -m pytest -q -p no:randomly
  echo "== round $round passed in $(( $(date +%s) - start )) s"
done
