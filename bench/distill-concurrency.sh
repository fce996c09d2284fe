#!/usr/bin/env bash
# Wall time of `distill`'s candidates trained one after another (distill.parallelism = 1) and at once (2, each its
# own Spark job group in a FAIR scheduler pool), in one run on the same stored teacher outputs: the job's own
# timing of training and evaluating every candidate (not the JVM start, the join or the table writes), and the
# accuracies (the same in both: training is deterministic). Trains the teacher one epoch first (or
# MODEL=path/to/model.zip). Defaults: three candidates plus the hard-label baseline, 5 epochs each
# (DISTILL_EPOCHS). With CLUSTER=1 every job runs on the local standalone cluster with S3 (bin/spark-local,
# bin/s3-local; started and stopped here). Extra arguments go to every command.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
EPOCHS="${DISTILL_EPOCHS:-5}"
if [[ -n "${CLUSTER:-}" ]]; then
  on_cluster
  ARGS=("${CLUSTER_ARGS[@]}" "${ARGS[@]}")
  quiet train "$CML" train --run-id dc "${ARGS[@]}" --set train.epochs=1 --set train.validate=false
  model="s3a://compactml/models/fmnist-mlp/dc/model.zip"
else
  model="$(model_or_train dc "${ARGS[@]}" --set train.epochs=1 --set train.validate=false)"
fi
M=(--set "model.path=\"$model\"")
quiet outputs "$CML" teacher-outputs --run-id dc "${ARGS[@]}" "${M[@]}"
declare -A WALL
for p in 1 2; do
  quiet "distill-$p" "$CML" distill --run-id "dc-$p" --set distill.teacher-run=dc "${ARGS[@]}" "${M[@]}" \
    --set "distill.epochs=$EPOCHS" --set train.validate=false --set "distill.parallelism=$p"
  WALL[$p]=$(sed -nE 's/^distill: [0-9]+ candidates trained and evaluated in ([0-9.]+) s.*/\1/p' "distill-$p.out")
  echo "parallelism $p: ${WALL[$p]} s; $(grep -E '^candidate' "distill-$p.out" | tr -s ' ' | paste -sd ';')"
done
awk -v a="${WALL[1]}" -v b="${WALL[2]}" \
  'BEGIN { printf "candidates in turn %.1f s / at once %.1f s = %.2fx\n", a, b, a / b }'
