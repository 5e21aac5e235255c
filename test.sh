#!/usr/bin/env bash
# Runs every test (real model, real images) and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

dotnet test ArtGrid.sln -c Release --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
rc=$?

passed=0 failed=0 total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  attr() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(attr total)))
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed)))
done

if [ "$total" -eq 0 ] && [ "$rc" -ne 0 ]; then
  echo "the build or test run failed before any test ran (exit $rc)" >&2
fi
echo "$passed passed, $failed failed, $((total - passed - failed)) skipped"
exit "$rc"
