#!/usr/bin/env bash
# Fuzzes ArtGrid's readers of untrusted bytes with afl-fuzz through SharpFuzz (docs/FUZZING.md).
#
#   fuzz/run.sh TARGET SECONDS     one target: container, c2pa, metadata, pixels or protocol
#   fuzz/run.sh --all SECONDS      every target in turn, SECONDS each
#
# Installs Debian's afl++ when it is missing (as root, with apt-get; otherwise says so and exits 2), publishes
# fuzz/ArtGrid.Fuzz, instruments its copy of ArtGrid.Imaging.dll with the sharpfuzz tool pinned in
# .config/dotnet-tools.json, writes each target's seed corpus (the images under tests/assets with their pixel data cut
# short, the C2PA stores in them, stealth-metadata pixels, protocol frames, and the regression inputs of tests/assets/fuzz
# for their own target), then runs afl-fuzz -V SECONDS per target on
# one core. Everything it writes is under .fuzz/ (ignored; FUZZ_DIR for another folder): bin/, seeds/TARGET/,
# findings/TARGET/ (afl's output: default/crashes, default/hangs, default/fuzzer_stats) and summary.tsv.
# Prints per target the executions, execs/s, corpus entries, edge coverage, crashes and hangs (afl's fuzzer_stats), and
# the exception of each crashing input replayed. Exits 1 when any target found a crash or a hang or could not run.
#
# FUZZ_TIMEOUT_MS: afl-fuzz's -t, the time one input may take before it counts as a hang (default 5000: the first
# input of a run pays for .NET's JIT; a reader that is bounded answers in milliseconds).
set -uo pipefail
cd "$(dirname "$0")/.."

all_targets=(container c2pa metadata pixels protocol)
usage() {
  echo "usage: fuzz/run.sh TARGET SECONDS | fuzz/run.sh --all SECONDS (targets: ${all_targets[*]})" >&2
  exit 2
}
[ $# -eq 2 ] || usage
case $2 in '' | *[!0-9]*) usage ;; esac
seconds=$2
if [ "$1" = --all ]; then
  targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $1 "* ]]; then
  targets=("$1")
else
  usage
fi

dir=${FUZZ_DIR:-.fuzz}
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "fuzz/run.sh: afl-fuzz is not installed and this is not root: install it with: apt-get install -y afl++" >&2
    exit 2
  fi
  echo "fuzz/run.sh: installing afl++" >&2
  wait=(-o DPkg::Lock::Timeout=600)
  DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y afl++ >/dev/null \
    || { apt-get "${wait[@]}" update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y afl++ >/dev/null; } \
    || { echo "fuzz/run.sh: installing afl++ failed" >&2; exit 2; }
fi

# A fresh publish every time: sharpfuzz rewrites ArtGrid.Imaging.dll in place, and an instrumented copy must not be
# instrumented twice.
rm -rf "$dir/bin" "$dir/seeds"
mkdir -p "$dir"
dotnet tool restore >/dev/null || { echo "fuzz/run.sh: dotnet tool restore failed" >&2; exit 2; }
dotnet publish fuzz/ArtGrid.Fuzz/ArtGrid.Fuzz.csproj -c Release -o "$dir/bin" --nologo -v quiet >"$dir/publish.log" 2>&1 \
  || { cat "$dir/publish.log" >&2; echo "fuzz/run.sh: the fuzz project did not build" >&2; exit 2; }
mapfile -t assets < <({ find tests/assets -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.gif' \)
  find tests/assets/fuzz -type f; } | sort -u)
dotnet "$dir/bin/ArtGrid.Fuzz.dll" --seeds "$dir/seeds" "${assets[@]}" || { echo "fuzz/run.sh: writing the seeds failed" >&2; exit 2; }
dotnet tool run sharpfuzz "$dir/bin/ArtGrid.Imaging.dll" || { echo "fuzz/run.sh: instrumenting ArtGrid.Imaging.dll failed" >&2; exit 2; }

# dotnet itself carries no afl instrumentation (SharpFuzz's fork server and map are in the managed code); core dumps
# may go to a handler (containers, VMs), the CPU governor is not ours to set, and the one free core is not always the
# same one. A reader's heap is capped so that a runaway allocation is a crash rather than a slow machine.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 \
  AFL_FAST_CAL=1 DOTNET_GCHeapHardLimit=0x20000000

stat() { sed -n "s/^$1 *: *//p" "$2" | head -n 1; }
failed=0
: >"$dir/summary.tsv"
printf '%-10s %8s %10s %8s %7s %14s %8s %6s %s\n' target seconds execs execs/s corpus edges bitmap crashes hangs
for target in "${targets[@]}"; do
  out="$dir/findings/$target"
  rm -rf "$out"
  mkdir -p "$out"
  timeout --kill-after=30 $((seconds + 300)) \
    afl-fuzz -i "$dir/seeds/$target" -o "$out" -V "$seconds" -t "$timeout_ms" -m none -- \
    dotnet "$dir/bin/ArtGrid.Fuzz.dll" "$target" >"$out/afl.log" 2>&1
  rc=$?
  stats="$out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz/run.sh: $target: afl-fuzz did not run (exit $rc); the end of $out/afl.log:" >&2
    tail -n 20 "$out/afl.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
    printf '%s\tfailed\tdid not run\n' "$target" >>"$dir/summary.tsv"
    failed=1
    continue
  fi

  execs=$(stat execs_done "$stats") run_time=$(stat run_time "$stats")
  crashes=$(stat saved_crashes "$stats") hangs=$(stat saved_hangs "$stats")
  edges="$(stat edges_found "$stats")/$(stat total_edges "$stats")"
  rate=$(( execs / (run_time > 0 ? run_time : 1) ))
  printf '%-10s %8s %10s %8s %7s %14s %8s %6s %s\n' "$target" "$run_time" "$execs" "$rate" "$(stat corpus_count "$stats")" \
    "$edges" "$(stat bitmap_cvg "$stats")" "${crashes:-0}" "${hangs:-0}"
  status=passed
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    status=failed failed=1
    mapfile -t found < <(find "$out/default/crashes" "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | sort)
    echo "fuzz/run.sh: $target: ${crashes:-0} crashes, ${hangs:-0} hangs; replayed:" >&2
    dotnet "$dir/bin/ArtGrid.Fuzz.dll" "$target" --replay "${found[@]}" 2>&1 | grep -v '^ok ' | head -n 60 >&2
  fi

  printf '%s\t%s\t%s s, %s execs, %s execs/s, corpus %s, edges %s, bitmap %s, %s crashes, %s hangs\n' "$target" "$status" "$run_time" \
    "$execs" "$rate" "$(stat corpus_count "$stats")" "$edges" "$(stat bitmap_cvg "$stats")" "${crashes:-0}" "${hangs:-0}" >>"$dir/summary.tsv"
done

exit "$failed"
