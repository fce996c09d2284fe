#!/usr/bin/env bash
# Knowledge distillation on Fashion-MNIST, measured in one run (the throughput of teacher-outputs, formerly
# soft-labels, is bench/teacher-outputs.sh):
#  1. the teacher's outputs over the 60k training images, stored once;
#  2. students 784-64-10 (50,890 parameters, 9.5 % of the 784-512-256-10 teacher) trained distill.epochs
#     (default 20) from the stored outputs, one per distill.settings candidate (DISTILL_SETTINGS overrides) plus
#     the hard-label baseline with the same budget; accuracy on the 10k test images against the teacher;
#  3. one distillation epoch / one plain training epoch of the same student on the same data (train with
#     network.hidden=[64] for as many epochs; validation off in both; the last epoch of each, JIT warm).
# Trains the teacher first (10 epochs, as the demo) unless MODEL=path/to/model.zip. Extra arguments go to every
# command. Usage: bench/distillation.sh [compactml options]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
SETTINGS="${DISTILL_SETTINGS:-[\"1:0.3\", \"2:0.3\", \"4:0.7\"]}"
model="$(model_or_train db "${ARGS[@]}")"
M=(--set "model.path=\"$model\"")
echo "teacher: $model"

quiet soft "$CML" teacher-outputs --run-id db "${ARGS[@]}" "${M[@]}"
# candidates in turn: the epoch timed below is one student's alone on the cores (bench/distill-concurrency.sh
# times them trained at once)
quiet distill "$CML" distill --run-id db "${ARGS[@]}" "${M[@]}" --set "distill.settings=$SETTINGS" \
  --set train.validate=false --set distill.parallelism=1
grep -E '^(distill:|candidate)' distill.out
grep -E '^  student' distill.out
# epoch seconds: "epoch e/E  loss ...  N samples/s  S s (total T s)"
seconds() { sed -E 's/.* ([0-9.]+) s \(total.*/\1/'; }
epochs=$(grep -m1 -E '^epoch 1/' distill.out | sed -E 's/^epoch 1\/([0-9]+).*/\1/')
kd_epoch=$(grep -E '^epoch ' distill.out | sed -n "${epochs}p" | seconds)  # the first candidate's last epoch
quiet plain "$CML" train --run-id db-plain "${ARGS[@]}" --set "network.hidden=[64]" --set train.validate=false \
  --set "train.epochs=$epochs"
plain_epoch=$(grep -E '^epoch ' plain.out | tail -n 1 | seconds)
awk -v k="$kd_epoch" -v p="$plain_epoch" \
  'BEGIN { printf "one epoch of the same student: distillation %.2f s / plain training %.2f s = %.2f\n", k, p, k / p }'
