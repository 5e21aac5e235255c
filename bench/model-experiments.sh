#!/usr/bin/env bash
# Reproduces the experiment table of docs/MODEL_CARD.md: one `artgrid train` per recipe on a labelled set (seed format:
# images/ + labels.csv with source and generator columns), each into its own throwaway version folder, then one line
# per recipe: leave-one-group-out and grouped 5-fold AUC, mean leave-one-family-out AUC, recall at a pooled 1%
# false-positive rate out of group, the shipped threshold's pooled false-positive rate and its worst human group of 30
# or more images, AUC after JPEG quality 75 and after halving the held-out images, and feature cost per image.
#
#   bench/model-experiments.sh DATASET_DIR [OUT_DIR] [RECIPE...]
#
# Validation keeps related sources together, as artgrid-open-v2's README asks: a GitHub owner's repositories are one
# group, and so are the two Debian packages that share Art4Apps drawings and the two SD 1.5 style-study repositories.
# About 4 minutes per recipe on 2 cores (the 448-pixel ones about twice that).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: bench/model-experiments.sh DATASET_DIR [OUT_DIR] [RECIPE...]}"
out="${2:-$(mktemp -d)}"
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "$out"
dotnet build src/Cli -c Release -v quiet -nologo >/dev/null

groups=(--group-by owner --same-group debian:gcompris-qt-data,debian:pysiogame --same-group github:SupaGruen,github:amiantos)
recipes=(
  "v2-stage2-224|--outputs ReLU315_Output_0"
  "crop224-stage2|--outputs ReLU315_Output_0 --fit crop --max-side 768"
  "crop448-stage2|--outputs ReLU315_Output_0 --fit crop --max-side 768 --input-size 448"
  "crop448-traces|--outputs ArtGrid_TraceStatistics --fit crop --max-side 768 --input-size 448"
  "crop448-stage2+traces|--outputs ReLU315_Output_0 ArtGrid_TraceStatistics --fit crop --max-side 768 --input-size 448"
  "stage2+3-224|--outputs ReLU315_Output_0 ReLU347_Output_0"
  "v3-stage2+3-224-groupweighted|--outputs ReLU315_Output_0 ReLU347_Output_0 --group-weighting"
)
for recipe in "${recipes[@]}"; do
  name="${recipe%%|*}" args="${recipe#*|}"
  if (( $# > 0 )) && [[ ! " $* " == *" $name "* ]]; then
    continue
  fi

  # shellcheck disable=SC2086
  dotnet src/Cli/bin/Release/net10.0/artgrid.dll train --labels "$data/labels.csv" --images "$data/images" \
    --out "$out/models/experiment-$name/1" "${groups[@]}" --robustness $args > "$out/$name.log" 2>&1
  python3 - "$out/models/experiment-$name/1/metrics.json" "$name" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
o = m["outOfGroup"]
t = o["shippedThreshold"]
worst = max([g["rate"] for g in t["byGroup"] if g["images"] >= 30] or [0])
print(f'{sys.argv[2]} logo={o["rocAuc"]:.3f} grouped5={m["groupedCrossValidation"]["rocAuc"]:.3f} '
      f'lofo={o["leaveOneFamilyOutMeanAuc"]:.3f} recall@1%={o["recallAtOnePercentFpr"]:.3f} '
      f'fpr@shipped={t["pooledRate"]:.4f} worst30={worst:.3f} recall@shipped={o["recallAtShippedThreshold"]:.3f} '
      f'jpeg75={o["robustnessAuc"]["jpeg75"]:.3f} half={o["robustnessAuc"]["half"]:.3f} '
      f'random5={m["randomStratifiedCrossValidation"]["rocAuc"]:.3f} l2={m["l2"]} ms_per_image={m["millisecondsPerImage"]}')
EOF
done
