#!/usr/bin/env bash
# Runs every test (real model, real images, real Redis and RabbitMQ) and ends with one line:
# "N passed, N failed, N skipped".
#
# Starts private Redis and RabbitMQ servers for the run (deploy/servers.sh, installing Debian's packages when missing
# and run as root) on test ports, 127.0.0.1 only, with their data in a temporary folder, and stops them at the end.
# ARTGRID_REDIS_PORT / ARTGRID_AMQP_PORT choose other ports (defaults 6390 / 5690, so that a local cluster on the
# standard ports is left alone).
set -uo pipefail
cd "$(dirname "$0")"

export ARTGRID_REDIS_PORT="${ARTGRID_REDIS_PORT:-6390}" ARTGRID_AMQP_PORT="${ARTGRID_AMQP_PORT:-5690}"
export ARTGRID_STATE_DIR
ARTGRID_STATE_DIR="$(mktemp -d)"
results="$(mktemp -d)"
cleanup() {
  deploy/servers.sh down
  rm -rf "$results" "$ARTGRID_STATE_DIR"
}
trap cleanup EXIT

if ! deploy/servers.sh up; then
  echo "test.sh: the servers did not start; the cluster tests will fail and say so" >&2
fi

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
