#!/usr/bin/env bash
# Runs the tests (real model, real images, real Redis and RabbitMQ) layer by layer and ends with one line:
# "N passed, N failed, N skipped".
#
#   ./test.sh                       every layer: unit, component, integration, multihost (multihost as root only), fuzz
#                                   (as root or where afl++ is installed)
#   ./test.sh unit                  one layer (unit, component, integration, multihost or fuzz; several may be named)
#   ./test.sh integration --filter "FullyQualifiedName~ClusterTests"   anything after the layers goes to dotnet test
#
# Layers: tests/UnitTests (no processes, fake time), tests/ComponentTests (one in-process Orleans cluster per
# collection, the real model), tests/IntegrationTests (silos, gateway, CLI and decode workers as processes, Redis and
# RabbitMQ, the console in Debian's chromium), and multihost: the tests of that project marked Category=MultiHost, a
# cluster across network namespaces that the test makes itself (root only; the integration layer leaves them out); and
# fuzz: fuzz/run.sh --all, afl-fuzz through SharpFuzz over each reader of untrusted bytes for ARTGRID_FUZZ_SECONDS (30) per
# target, each target one test, passed when it ran its time without a crash or a hang (docs/FUZZING.md; as root it
# installs Debian's afl++ when missing).
# Only the integration and multihost layers need the servers: for them this starts private
# Redis and RabbitMQ servers (deploy/servers.sh, installing Debian's packages when missing and run as root) on test
# ports, 127.0.0.1 only, with their data in a temporary folder, and stops them at the end; as root it also installs
# chromium, libjpeg-turbo-progs and libvips-tools (djpeg and vips, for the queue bench's test) and libturbojpeg0
# (the JPEG decoder) when missing. ARTGRID_REDIS_PORT / ARTGRID_AMQP_PORT choose other ports (defaults 6390 / 5690, so that a local cluster
# on the standard ports is left alone); ARTGRID_CHROMIUM another browser executable.
set -uo pipefail
cd "$(dirname "$0")"

declare -A projects=(
  [unit]=tests/UnitTests/ArtGrid.UnitTests.csproj
  [component]=tests/ComponentTests/ArtGrid.ComponentTests.csproj
  [integration]=tests/IntegrationTests/ArtGrid.IntegrationTests.csproj
  [multihost]=tests/IntegrationTests/ArtGrid.IntegrationTests.csproj
  [fuzz]=fuzz/run.sh
)
# The integration project's multihost tests run as a layer of their own.
declare -A layer_filter=([integration]='Category!=MultiHost' [multihost]='Category=MultiHost')
layers=()
while [ $# -gt 0 ] && [ -n "${projects[$1]:-}" ]; do layers+=("$1"); shift; done
if [ ${#layers[@]} -eq 0 ]; then
  layers=(unit component integration multihost)
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: not root: leaving out the multihost layer (network namespaces need root)" >&2
    layers=(unit component integration)
  fi
  if [ "$(id -u)" -eq 0 ] || command -v afl-fuzz >/dev/null 2>&1; then
    layers+=(fuzz)
  else
    echo "test.sh: not root and no afl-fuzz: leaving out the fuzz layer (install it with: apt-get install -y afl++)" >&2
  fi
fi

# A --filter given after the layers narrows each layer's own filter.
user_filter="" rest=()
while [ $# -gt 0 ]; do
  case $1 in
    --filter) user_filter=${2:-}; shift 2 || shift ;;
    --filter=*) user_filter=${1#--filter=}; shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
filter_args() {
  local own=${layer_filter[$1]:-}
  if [ -n "$own" ] && [ -n "$user_filter" ]; then echo "($user_filter)&($own)"
  elif [ -n "$own" ]; then echo "$own"
  else echo "$user_filter"; fi
}

export ARTGRID_REDIS_PORT="${ARTGRID_REDIS_PORT:-6390}" ARTGRID_AMQP_PORT="${ARTGRID_AMQP_PORT:-5690}"
export ARTGRID_STATE_DIR
ARTGRID_STATE_DIR="$(mktemp -d)"
results="$(mktemp -d)"
servers=0
cleanup() {
  [ "$servers" = 1 ] && deploy/servers.sh down
  rm -rf "$results" "$ARTGRID_STATE_DIR"
}
trap cleanup EXIT

# As root, installs a Debian package some tests need when it is missing (waiting for another apt to release its lock, and
# updating the package index once if the first try fails); otherwise says which tests will fail and how to install it.
apt_install() {
  local package=$1 needed_by=$2 wait=(-o DPkg::Lock::Timeout=600)
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: no $package: $needed_by will fail; install it with: apt-get install -y $package" >&2
    return 0
  fi
  echo "test.sh: installing $package for $needed_by" >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y "$package" >/dev/null \
    || { apt-get "${wait[@]}" update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y "$package" >/dev/null; } \
    || echo "test.sh: installing $package failed; $needed_by will fail" >&2
}

# The multihost layer's lab needs iproute2's ip and ss.
ensure_iproute2() {
  command -v ip >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 && return 0
  apt_install iproute2 "the multihost tests"
}

# The console's browser tests drive Debian's chromium (headless, no browser download).
ensure_chromium() {
  [ -n "${ARTGRID_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ] && return 0
  apt_install chromium "the console's browser tests"
}

# The queue bench's test compares our JPEG decoding with libjpeg-turbo's djpeg, on the photo mix that
# bench/photo-mix.sh builds with libvips' vips.
ensure_djpeg() {
  command -v djpeg >/dev/null 2>&1 || apt_install libjpeg-turbo-progs "the queue bench's test (jpeg_vs_djpeg)"
  command -v vips >/dev/null 2>&1 || apt_install libvips-tools "the queue bench's test (its photo mix)"
}

# JPEGs are decoded by the system's libjpeg-turbo (TurboJPEG API); the decoder tests check that it is there.
ensure_turbojpeg() {
  { [ -e /usr/lib/x86_64-linux-gnu/libturbojpeg.so.0 ] || ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0'; } && return 0
  apt_install libturbojpeg0 "the TurboJpeg decoder tests"
}
ensure_turbojpeg

rc=0
if ! dotnet build ArtGrid.sln -c Release; then
  echo "test.sh: the build failed" >&2
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi

summary=()
passed=0 failed=0 total=0
for layer in "${layers[@]}"; do
  if { [ "$layer" = integration ] || [ "$layer" = multihost ]; } && [ "$servers" = 0 ]; then
    # Also for multihost: its lab starts Redis and RabbitMQ with the same script inside a namespace that has no route
    # out, so the packages must be installed before.
    servers=1
    deploy/servers.sh up || echo "test.sh: the servers did not start; the integration tests will fail and say so" >&2
  fi
  [ "$layer" = integration ] && { ensure_chromium; ensure_djpeg; }
  [ "$layer" = multihost ] && ensure_iproute2
  start=$(date +%s)
  if [ "$layer" = fuzz ]; then
    # One test per target: fuzz/run.sh writes a line per target it ran, passed or failed, to .fuzz/summary.tsv.
    rm -f .fuzz/summary.tsv
    FUZZ_DIR=.fuzz fuzz/run.sh --all "${ARTGRID_FUZZ_SECONDS:-30}" || rc=$?
    p=0 f=0
    [ -f .fuzz/summary.tsv ] && p=$(grep -c $'\tpassed\t' .fuzz/summary.tsv) f=$(grep -c $'\tfailed\t' .fuzz/summary.tsv)
    [ $((p + f)) -eq 0 ] && f=1 # it stopped before fuzzing anything: one failure, said above
    total=$((total + p + f)) passed=$((passed + p)) failed=$((failed + f))
    summary+=("fuzz: $p passed, $f failed, 0 skipped in $(( $(date +%s) - start )) s")
    continue
  fi
  filter=$(filter_args "$layer")
  dotnet test "${projects[$layer]}" -c Release --no-build --logger "trx;LogFileName=$layer.trx" --results-directory "$results" \
    ${filter:+--filter "$filter"} "${rest[@]}" || rc=$?
  seconds=$(( $(date +%s) - start ))
  trx="$results/$layer.trx"
  counters=$( [ -f "$trx" ] && grep -o '<Counters [^>]*>' "$trx" | head -n 1 )
  attr() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  t=$(attr total) p=$(attr passed) f=$(attr failed)
  t=${t:-0} p=${p:-0} f=${f:-0}
  total=$((total + t)) passed=$((passed + p)) failed=$((failed + f))
  summary+=("$layer: $p passed, $f failed, $((t - p - f)) skipped in ${seconds} s")
done

for line in "${summary[@]}"; do echo "test.sh: $line" >&2; done
if [ "$total" -eq 0 ] && [ "$rc" -ne 0 ]; then
  echo "the test run failed before any test ran (exit $rc)" >&2
fi
echo "$passed passed, $failed failed, $((total - passed - failed)) skipped"
exit "$rc"
