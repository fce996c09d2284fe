#!/usr/bin/env bash
# Low-bit weights and quantization-aware training on Fashion-MNIST: trains the shipped MLP on the 60k training
# images (or reuses MODEL=path/to/model.zip; the CNN with --config conf/cnn.conf), calibrates on them, then
# post-training quantization (PTQ) with 8-, 4-, 2- and 1-bit weights and quantization-aware training (QAT,
# qat.epochs from the same start) with 4-, 2- and 1-bit weights, activations 8-bit throughout (fake-quantized while
# fine-tuning; one 2-bit run with the weights alone for comparison); mixed widths per layer (4, 2 or 1 bits) under a
# 1-point budget; 4- and 2-bit weights with a scale per 16 inputs (quantize.weight-group-size); every model evaluated
# on the 10k test images, its file against the float zip; then one QAT epoch's time against one training epoch's
# (each the mean over the run's epochs after the first).
# Usage: bench/qat.sh [extra compactml options]      (about 15 minutes for the MLP on 2 cores)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run=qat
model=()
if [[ -n "${MODEL:-}" ]]; then
  model=(--set "model.path=\"$MODEL\"")
else
  quiet train "$CML" train --run-id "$run" "$@"
fi
quiet calibrate "$CML" calibrate --run-id "$run" "${model[@]}" "$@"
row() {  # row LABEL FILE: accuracy, points lost against the float model, size and ratio to the float zip
  awk -v label="$1" -v f="$FLOAT" '
    /^  (int8|quantized|shipped) +accuracy/ { q = $3 }
    / model .*: [0-9,]+ bytes \(float / { match($0, /: [0-9,]+ bytes/); b = substr($0, RSTART + 2, RLENGTH - 8)
      gsub(",", "", b); match($0, /\(float [0-9,]+/); z = substr($0, RSTART + 7, RLENGTH - 7); gsub(",", "", z) }
    END { printf "%-16s %8.4f %8.2f %10d %8.1fx\n", label, q, 100 * (f - q), b, z / b }' "$2"
}
printf '%-16s %8s %8s %10s %9s\n' model accuracy drop bytes smaller
for bits in 8 4 2 1; do
  quiet "ptq-$bits" "$CML" quantize --run-id "$run" --set quantize.weight-bits=$bits --set quantize.sensitivity=false \
    "${model[@]}" "$@"
  if [[ $bits == 8 ]]; then
    FLOAT=$(awk '/^  float +accuracy/ { print $3 }' "ptq-8.out")
    printf '%-16s %8.4f %8s %10s %9s\n' float "$FLOAT" - - -
  fi
  row "ptq $bits-bit" "ptq-$bits.out"
done
quiet ptq-mixed "$CML" quantize --run-id "$run" --set "quantize.mixed-bits=[4, 2, 1]" \
  --set quantize.max-accuracy-drop=1.0 --set quantize.sensitivity=false "${model[@]}" "$@"
row "ptq mixed" ptq-mixed.out
grep -o 'weight bits per layer .*' ptq-mixed.out | sed 's/^/  /'
for bits in 4 2; do
  quiet "ptq-$bits-g16" "$CML" quantize --run-id "$run" --set quantize.weight-bits=$bits \
    --set quantize.weight-group-size=16 --set quantize.sensitivity=false "${model[@]}" "$@"
  row "ptq $bits-bit g16" "ptq-$bits-g16.out"
done
for bits in 4 2 1; do
  quiet "qat-$bits" "$CML" qat --run-id "$run" --set quantize.weight-bits=$bits --set quantize.sensitivity=false \
    "${model[@]}" "$@"
  row "qat $bits-bit" "qat-$bits.out"
done
quiet qat-2-weights "$CML" qat --run-id "$run" --set quantize.weight-bits=2 --set quantize.sensitivity=false \
  --set qat.fake-quantize-activations=false "${model[@]}" "$@"
row "qat 2-bit, w only" qat-2-weights.out
# epoch_seconds FILE: the mean seconds of the epoch lines a training run printed ("... 9.3 s (total ..."), the
# first epoch left out when there are more (it carries the JVM's warm-up in every run)
epoch_seconds() {
  awk '/^epoch [0-9]+\/[0-9]+ / { for (i = 2; i <= NF; i++) if ($(i + 1) == "s" && $(i + 2) == "(total") {
      if (n++ == 0) first = $i; else t += $i } }
    END { if (n > 1) printf "%.2f", t / (n - 1); else if (n) printf "%.2f", first }' "$1"
}
if [[ -f train.out ]]; then
  for f in train qat-2 qat-2-weights; do  # every epoch's seconds, for the record
    printf '%s epochs (s):' "$f"; awk '/^epoch [0-9]+\/[0-9]+ / { for (i = 2; i <= NF; i++)
      if ($(i + 1) == "s" && $(i + 2) == "(total") printf " %s", $i } END { print "" }' "$f.out"
  done
  t=$(epoch_seconds train.out)
  for f in qat-2 qat-2-weights; do
    awk -v f="$f" -v q="$(epoch_seconds $f.out)" -v t="$t" \
      'BEGIN { printf "epoch time: training %.2f s, %s %.2f s: QAT / training %.2f\n", t, f, q, q / t }'
  done
fi
