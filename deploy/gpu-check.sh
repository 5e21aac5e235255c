#!/usr/bin/env bash
# Checks that a GPU node can serve ArtGrid's cuda:N devices, and measures them.
#
#   deploy/gpu-check.sh [--batch N] [--batches N] [-- ARGS...]
#
#   1. nvidia-smi must be on PATH and list at least one GPU (the NVIDIA driver is installed and answers)
#   2. builds the CLI with the CUDA ONNX Runtime (dotnet build src/Cli -c Release -p:ArtGridGpu=true) into a
#      temporary folder, removed at exit (about 1.2 GB: the CUDA provider library alone is some 280 MB)
#   3. runs `artgrid devices --check --device cuda:all` from the repository root: every GPU loads the default
#      model, runs one warm-up batch, then times the batches; one line per device with its batch size,
#      p50 ms per batch and images/s
#
#   --batch N     images per timed batch [16]
#   --batches N   timed batches per device [20]
#   -- ARGS...    passed on to `artgrid devices`, e.g. `-- --device cpu:0` for a CPU line to compare with, or
#                 `-- --io-binding` to time the IOBinding path
#
# Exit status: that of `artgrid devices` (0 every device ran, 1 a device failed, 2 usage, 3 model or set-up),
# or 1 when nvidia-smi or dotnet is missing or the build fails. The CUDA and cuDNN versions the build needs
# are in docs/GPU.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$SCRIPT_DIR/lib.sh"

is_count() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]; }

BATCH=16
BATCHES=20
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --batch) if [ $# -lt 2 ] || ! is_count "$2"; then usage; fi; BATCH=$2; shift 2 ;;
    --batches) if [ $# -lt 2 ] || ! is_count "$2"; then usage; fi; BATCHES=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done

command -v nvidia-smi >/dev/null 2>&1 \
  || die "nvidia-smi is not on PATH: this is not a GPU node, or the NVIDIA driver is not installed (docs/GPU.md)."
GPUS=$(nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader 2>&1) \
  || die "nvidia-smi failed: the driver does not answer: $GPUS"
[ -n "$GPUS" ] || die "nvidia-smi lists no GPUs."
command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH: install the .NET 10 SDK."

say "GPUs (nvidia-smi):"
while IFS= read -r line; do say "  $line"; done <<<"$GPUS"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/artgrid-gpu-check.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

say "Building the CLI with the CUDA provider (-p:ArtGridGpu=true) ..."
BUILD_LOG="$OUT/build.log"
if ! dotnet build "$REPO_ROOT/src/Cli" -c Release -p:ArtGridGpu=true -o "$OUT/bin" >"$BUILD_LOG" 2>&1; then
  tail -n 30 "$BUILD_LOG" >&2
  die "the GPU build failed (last lines above)."
fi

say "Timing every GPU (batch $BATCH, $BATCHES batches after one warm-up):"
# From the repository root, so that the timed tensor is a real image of samples/.
cd "$REPO_ROOT"
status=0
dotnet "$OUT/bin/artgrid.dll" devices --check --device cuda:all --batch "$BATCH" --batches "$BATCHES" ${EXTRA[@]+"${EXTRA[@]}"} || status=$?
if [ "$status" -ne 0 ]; then
  echo "gpu-check.sh: artgrid devices exited with $status (the failing device's reason is above)." >&2
fi
exit "$status"
