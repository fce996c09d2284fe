#!/usr/bin/env bash
# Low-bit weights and quantization-aware training on Fashion-MNIST: trains the shipped MLP on the 60k training
# images (or reuses MODEL=path/to/model.zip; the CNN with --config conf/cnn.conf), calibrates on them, then
# post-training quantization (PTQ) with 8-, 4-, 2- and 1-bit weights and quantization-aware training (QAT,
# qat.epochs from the same start) with 4-, 2- and 1-bit weights, activations 8-bit throughout; every model evaluated
# on the 10k test images, its file against the float zip; then one QAT epoch's time against one training epoch's.
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
    /^  (int8|quantized) +accuracy/ { q = $3 }
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
for bits in 4 2 1; do
  quiet "qat-$bits" "$CML" qat --run-id "$run" --set quantize.weight-bits=$bits --set quantize.sensitivity=false \
    "${model[@]}" "$@"
  row "qat $bits-bit" "qat-$bits.out"
done
# one epoch of the last QAT run against one epoch of training (the mean over their epochs)
"$CML" sql --format csv "SELECT m.model_name, round(avg(h.epoch_seconds), 2) AS epoch_s FROM training_history h
  JOIN (SELECT DISTINCT model_name FROM training_history WHERE run_id = '$run') m ON h.model_name = m.model_name
  WHERE h.run_id = '$run' GROUP BY m.model_name ORDER BY m.model_name" "$@" 2>/dev/null | tail -n +2 \
  | awk -F, '{ t[NR] = $2; n[NR] = $1 } END { if (NR == 2) printf "epoch time: %s %.2f s, %s %.2f s: QAT / training %.2f\n", n[1], t[1], n[2], t[2], t[2] / t[1] }'
