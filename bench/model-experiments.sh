#!/usr/bin/env bash
# Reproduces the experiment table of docs/MODEL_CARD.md: one `artgrid train` per feature recipe on a labelled set
# (seed format: images/ + labels.csv with a source column), each into its own throwaway version folder, then one
# line per recipe with its grouped 5-fold, leave-one-source-out and random-split AUC and its cost per image.
#
#   bench/model-experiments.sh DATASET_DIR [OUT_DIR]
#
# Takes about 3 minutes per recipe on 2 cores (the 448-pixel ones about four times that).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: bench/model-experiments.sh DATASET_DIR [OUT_DIR]}"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
dotnet build src/Cli -c Release -v quiet -nologo >/dev/null

recipes=(
  "stage4-224|--outputs ReLU393_Output_0"
  "stage3-224|--outputs ReLU347_Output_0"
  "stage2-224|--outputs ReLU315_Output_0"
  "stage1-224|--outputs ReLU283_Output_0"
  "stage1+2-224|--outputs ReLU283_Output_0 ReLU315_Output_0"
  "stages1-4-224|--outputs ReLU283_Output_0 ReLU315_Output_0 ReLU347_Output_0 ReLU393_Output_0"
  "stage2-448|--outputs ReLU315_Output_0 --input-size 448"
  "stage4-448|--outputs ReLU393_Output_0 --input-size 448"
)
for recipe in "${recipes[@]}"; do
  name="${recipe%%|*}" args="${recipe#*|}"
  # shellcheck disable=SC2086
  dotnet run -c Release --no-build --project src/Cli -- train --labels "$data/labels.csv" --images "$data/images" \
    --out "$out/models/experiment-$name/1" $args > "$out/$name.log" 2>&1
  metrics="$out/models/experiment-$name/1/metrics.json"
  auc() { grep -A4 "\"$1\"" "$metrics" | sed -n 's/.*"rocAuc": \([0-9.]*\).*/\1/p' | head -n 1; }
  printf '%s grouped5=%s loso=%s random5=%s l2=%s ms_per_image=%s\n' "$name" \
    "$(auc groupedCrossValidation)" "$(auc leaveOneSourceOut)" "$(auc randomStratifiedCrossValidation)" \
    "$(sed -n 's/^  "l2": \([0-9.]*\).*/\1/p' "$metrics")" "$(sed -n 's/.*"millisecondsPerImage": \([0-9.]*\).*/\1/p' "$metrics")"
done
