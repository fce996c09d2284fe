#!/usr/bin/env bash
# Int8 post-training quantization of the shipped MLP on Fashion-MNIST: trains it on the 60k training images
# (or reuses MODEL=path/to/model.zip), calibrates on the 60k training images with every method in one pass,
# then quantizes with each method and evaluates float, int8 weights only and simulated int8 on the 10k test
# images. Prints one row per method with the int8 file size ratio.
# Usage: bench/quantization.sh [extra compactml options]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run=qbench
model=()
if [[ -n "${MODEL:-}" ]]; then
  model=(--set "model.path=\"$MODEL\"")
else
  "$CML" train --run-id "$run" "$@" > train.out 2> train.err || { tail -5 train.err >&2; exit 1; }
fi
"$CML" calibrate --run-id "$run" "${model[@]}" "$@" > calibrate.out 2> calibrate.err \
  || { tail -5 calibrate.err >&2; exit 1; }
grep '^calibration pass' calibrate.out
printf '%-11s %8s %13s %8s %9s %10s\n' method float int8-weights int8 drop size-ratio
for m in minmax percentile entropy mse; do
  "$CML" quantize --run-id "$run" --set quantize.method=$m --set quantize.sensitivity=false "${model[@]}" "$@" \
    > "q-$m.out" 2> "q-$m.err" || { tail -5 "q-$m.err" >&2; exit 1; }
  awk -v m="$m" '
    /^  float / { f = $3 } /^  int8-weights / { w = $3 } /^  int8 +accuracy/ { q = $3 }
    /^  int8 model/ { for (i = 1; i <= NF; i++) if ($i ~ /x$/ && $(i+1) == "smaller),") r = $i }
    END { printf "%-11s %8.4f %13.4f %8.4f %9.2f %10s\n", m, f, w, q, 100 * (f - q), r }' "q-$m.out"
done
