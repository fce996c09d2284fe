#!/usr/bin/env bash
# Distillation where the teacher knows more than the labels say, in one run: the shipped CNN (conf/cnn.conf,
# 421,642 parameters, trained TEACHER_EPOCHS epochs, default 8; or MODEL=path/to/model.zip) distilled into an MLP
# student of under 10 % of its parameters (STUDENT_HIDDEN, default [50]: 784-50-10, 39,760 parameters = 9.4 %), on
# three transfer sets: the 60k training images as they are; with AUGMENT (default 4) augmented copies of each
# (teacher-outputs.augment: shifts of up to 2 pixels, mirror images), labelled by the teacher once; and the same
# images and copies without their labels (the students learn from the teacher alone). On each, every
# distill.settings candidate (DISTILL_SETTINGS) and, where there are labels, the hard-label baseline train on the
# same rows for the same epochs (DISTILL_EPOCHS, default 20); accuracy on the 10k test images, against the teacher
# and the labelled baseline of the same images. Extra arguments go to every command.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
SETTINGS="${DISTILL_SETTINGS:-[\"2:0.5\", \"4:0.9\"]}"
AUGMENT="${AUGMENT:-4}"
model="$(model_or_train kt --config "$ROOT/conf/cnn.conf" --set "train.epochs=${TEACHER_EPOCHS:-8}" \
  --set train.validate=false "${ARGS[@]}")"
echo "teacher: $model"
S=(--set 'model.name="fmnist-cnn"' --set "model.path=\"$model\"" --set "distill.student.hidden=${STUDENT_HIDDEN:-[50]}"
  --set "distill.settings=$SETTINGS" --set "distill.epochs=${DISTILL_EPOCHS:-20}" --set train.validate=false)
for set in "0" "$AUGMENT" "$AUGMENT-unlabeled"; do
  copies="${set%-unlabeled}"
  run="kt-$set"
  L=()
  [[ "$set" == *-unlabeled ]] && L=(--set 'data.train.labels-uri=""')
  quiet "outputs-$set" "$CML" teacher-outputs --run-id "$run" "${ARGS[@]}" "${S[@]}" "${L[@]}" \
    --set "teacher-outputs.augment.count=$copies"
  quiet "distill-$set" "$CML" distill --run-id "$run" "${ARGS[@]}" "${S[@]}" "${L[@]}"
  echo "transfer set: 60,000 images and $copies augmented copies of each${L:+, without labels}"
  grep -E '^teacher outputs:' "outputs-$set.out"
  grep -E '^distill: [0-9]+ candidates' "distill-$set.out"
  # "student T4-a0.9: accuracy 0.8812 (teacher 0.9105, no-KD 0.8790), 39,760 parameters = 9.4 % of the teacher's"
  teacher=$(sed -nE 's/.*\(teacher ([0-9.]+).*/\1/p' "distill-$set.out" | tail -n 1)
  nokd=$(sed -nE 's/^candidate no-kd +accuracy ([0-9.]+).*/\1/p' "distill-$set.out")
  nokd="${nokd:-$labelled_nokd}"
  labelled_nokd="$nokd"
  grep -E '^candidate ' "distill-$set.out" | awk -v t="$teacher" -v n="$nokd" \
    '{ printf "  %-10s accuracy %s  vs teacher %+.2f  vs no-KD %+.2f points\n", $2, $4, 100 * ($4 - t), 100 * ($4 - n) }'
  grep -E '^  student' "distill-$set.out" | tail -n 1
done
