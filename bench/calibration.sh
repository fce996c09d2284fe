#!/usr/bin/env bash
# Cost of distributed calibration, as ratios measured in one run on the same data and cores:
#  1. calibration pass / plain batched inference pass (the `evaluate` pass) over the same 60k images;
#  2. calibration pass at local[2] vs local[1];
#  3. peak resident memory of `calibrate` over 60k vs 6k images (the histograms are fixed-size).
# Trains the MLP for one epoch first (or uses MODEL=path/to/model.zip). Usage: bench/calibration.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
CML="$ROOT/bin/compactml"
D=/usr/share/datasets/fashion-mnist
TRAIN=(--set "data.eval.uri=$D/train-images-idx3-ubyte.gz" --set "data.eval.labels-uri=$D/train-labels-idx1-ubyte.gz"
       --set data.eval.name=fashion-mnist-train)
if [[ -n "${MODEL:-}" ]]; then
  model="$MODEL"
else
  "$CML" train --run-id cb --set train.epochs=1 --set train.validate=false > train.out 2> train.err \
    || { tail -5 train.err >&2; exit 1; }
  model="$WORK/warehouse/models/fmnist-mlp/cb/model.zip"
fi
M=(--set "model.path=\"$model\"")

seconds() { sed -nE "s/^$1 pass: .* in ([0-9.]+) s/\1/p" "$2"; }

"$CML" evaluate --run-id cb "${M[@]}" "${TRAIN[@]}" --set evaluate.latency-runs=0 > eval.out 2> eval.err \
  || { tail -5 eval.err >&2; exit 1; }
for master in "local[2]" "local[1]"; do
  "$CML" calibrate --run-id cb "${M[@]}" --set "spark.master=$master" > "cal-$master.out" 2> "cal-$master.err" \
    || { tail -5 "cal-$master.err" >&2; exit 1; }
done
inference=$(seconds inference eval.out)
cal2=$(seconds calibration "cal-local[2].out")
cal1=$(seconds calibration "cal-local[1].out")
awk -v i="$inference" -v c="$cal2" 'BEGIN { printf "calibration pass %.2f s / inference pass %.2f s (60k, local[2]) = %.2f\n", c, i, c / i }'
awk -v a="$cal1" -v b="$cal2" 'BEGIN { printf "calibration local[1] %.2f s / local[2] %.2f s = speedup %.2f\n", a, b, a / b }'

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p'; }
big=$(rss "$CML" calibrate --run-id cb "${M[@]}")
small=$(rss "$CML" calibrate --run-id cb "${M[@]}" --set data.calibration.limit=6000)
awk -v b="$big" -v s="$small" 'BEGIN { printf "peak RSS of calibrate: 60k %d MiB / 6k %d MiB = %.2f\n", b / 1024, s / 1024, b / s }'
