#!/usr/bin/env bash
# Runs the quick tier (what `make test` runs) while one busy process per CPU competes for the
# machine: a test that decides by the clock or the machine's speed fails here.
#   bash scripts/test_under_load.sh [ROUNDS] [--all]
# ROUNDS (default 3, as docs/performance.md reports); --all: the slow tier too, in each round.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
tier=(-m "not slow")
for arg in "$@"; do
  case "$arg" in
    --all) tier=() ;;
    *) rounds=$arg ;;
  esac
done
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
  .venv/bin/python -m pytest -q -p no:randomly "${tier[@]}" -n "${PYTEST_WORKERS:-auto}" --dist worksteal
  echo "== round $round passed in $(( $(date +%s) - start )) s"
done
