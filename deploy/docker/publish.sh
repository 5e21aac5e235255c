#!/usr/bin/env bash
# Publishes one ArtGrid program into a folder, as the container images do: the Dockerfiles in this folder call this
# script, and the deploy tests call the same script and start what it wrote, so that the images' publish step is
# tested without a container runtime.
#
#   deploy/docker/publish.sh silo|silo-gpu|gateway OUTDIR
#
# silo      src/Silo, framework-dependent for linux-x64: artgrid-silo.dll, the decode worker beside it
#           (src/DecodeWorker/DecodeWorker.targets), the model repository in models/ and the ResNet-18 backbone in
#           DnnImageModels/.
# silo-gpu  the same with -p:ArtGridGpu=true: ONNX Runtime's CUDA package instead of the CPU one (docs/GPU.md).
# gateway   src/Gateway.
# Run from anywhere; extra arguments after OUTDIR go to dotnet publish.
set -euo pipefail

program=${1:?usage: publish.sh silo|silo-gpu|gateway OUTDIR [dotnet publish arguments]}
out=${2:?usage: publish.sh silo|silo-gpu|gateway OUTDIR [dotnet publish arguments]}
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

case $program in
  silo) project=src/Silo/ArtGrid.Silo.csproj; extra=() ;;
  silo-gpu) project=src/Silo/ArtGrid.Silo.csproj; extra=(-p:ArtGridGpu=true) ;;
  gateway) project=src/Gateway/ArtGrid.Gateway.csproj; extra=() ;;
  *) echo "publish.sh: unknown program '$program' (silo, silo-gpu or gateway)" >&2; exit 2 ;;
esac

# linux-x64 keeps only the Linux native libraries (ONNX Runtime's GPU package also carries Windows ones); no apphost,
# as the images start "dotnet artgrid-*.dll" on the runtime of their base image.
dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained false -p:UseAppHost=false \
  -o "$out" "${extra[@]}" "$@"

# What the silo cannot run without: fail here, not when the first image arrives.
if [[ $program == silo* ]]; then
  for required in artgrid-silo.dll artgrid-decode-worker.dll artgrid-decode-worker.runtimeconfig.json \
    appsettings.json models DnnImageModels/ResNet18Onnx/ResNet18.onnx; do
    [[ -e $out/$required ]] || { echo "publish.sh: $out/$required is missing from the publish output" >&2; exit 1; }
  done
fi
