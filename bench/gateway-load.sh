#!/usr/bin/env bash
# The gateway load test (`artgrid-bench gateway`) on private Redis and RabbitMQ servers of its own: starts them with
# deploy/servers.sh on ports of their own, builds the silo, the gateway and the bench in Release when their outputs are
# missing or older than the sources, runs the bench (which starts and stops its own silos and gateway), and stops the
# servers again, also when the bench fails or is interrupted. Its output is the bench's; so is its exit code.
#
#   bench/gateway-load.sh [artgrid-bench gateway options: --images 200 --concurrency 8 --rounds 4 --silos 2 --out DIR]
#
# Environment: ARTGRID_REDIS_PORT [6397], ARTGRID_AMQP_PORT [5697], ARTGRID_STATE_DIR [a temporary folder, removed after].
# A server that already answers on its port is used as it is and left running (deploy/servers.sh never stops what it
# did not start); the bench's cluster id, key space and queue are its own either way.
set -euo pipefail
cd "$(dirname "$0")/.."

export ARTGRID_REDIS_PORT="${ARTGRID_REDIS_PORT:-6397}" ARTGRID_AMQP_PORT="${ARTGRID_AMQP_PORT:-5697}"
own_state=0
if [ -z "${ARTGRID_STATE_DIR:-}" ]; then
  ARTGRID_STATE_DIR="$(mktemp -d)"
  own_state=1
fi
export ARTGRID_STATE_DIR

cleanup() {
  deploy/servers.sh down || echo "gateway-load.sh: stopping the servers failed; see deploy/servers.sh status" >&2
  [ "$own_state" = 1 ] && rm -rf "$ARTGRID_STATE_DIR"
  return 0
}
trap cleanup EXIT

# True when a build output is missing, or a source or project file is newer than the newest assembly of the output
# folders (an unrelated edit only costs an incremental build).
stale() {
  local dll newest assemblies=()
  for dll in "$@"; do
    [ -f "$dll" ] || return 0
    assemblies+=("${dll%/*}"/*.dll)
  done
  newest=$(ls -t "${assemblies[@]}" | head -n 1)
  [ -n "$(find src bench tests/ArtGrid.Testing Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune \
    -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$newest" -print -quit)" ]
}

silo=src/Silo/bin/Release/net10.0/artgrid-silo.dll
gateway=src/Gateway/bin/Release/net10.0/artgrid-gateway.dll
bench=bench/bin/Release/net10.0/artgrid-bench.dll
if stale "$silo" "$gateway" "$bench"; then
  echo "gateway-load.sh: building the silo, the gateway and the bench (Release)" >&2
  for project in src/Silo src/Gateway bench; do
    dotnet build "$project" -c Release -nologo -v quiet >&2
  done
fi

deploy/servers.sh up >&2
rc=0
dotnet "$bench" gateway --redis "127.0.0.1:$ARTGRID_REDIS_PORT" --amqp "amqp://guest:guest@127.0.0.1:$ARTGRID_AMQP_PORT/" "$@" || rc=$?
exit "$rc"
