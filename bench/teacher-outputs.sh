#!/usr/bin/env bash
# Throughput of `teacher-outputs` (the teacher's logits over data.train written to teacher_outputs), measured in
# one run: the job as shipped with the teacher in DL4J and in ONNX Runtime (teacher-outputs.runtime), each at
# local[1] and local[2]. The job's own timing is printed (the inference pass and the table write; not the JVM,
# the session or the model read), and the local[1] -> local[2] speedup of each runtime. Each run writes a table
# of its own (creating a table and replacing a run's rows differ in cost).
# Trains the teacher for one epoch first (or uses MODEL=path/to/model.zip): its accuracy does not change the
# cost. Extra arguments go to every command, e.g. for the CNN teacher on 10k images:
#   bench/teacher-outputs.sh --config conf/cnn.conf --set data.train.limit=10000
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
model="$(model_or_train to "${ARGS[@]}" --set train.epochs=1 --set train.validate=false)"
M=(--set "model.path=\"$model\"")
echo "teacher: $model"

declare -A SECONDS_OF
for runtime in dl4j onnxruntime; do
  for master in "local[1]" "local[2]"; do
    quiet "to-$runtime-$master" "$CML" teacher-outputs --run-id to "${ARGS[@]}" "${M[@]}" \
      --set "spark.master=$master" --set "teacher-outputs.runtime=$runtime" \
      --set "tables.root=./tables-$runtime-$master"
    # "teacher outputs: N examples of ... in S s (R inference and table write)"
    read -r n s < <(sed -nE "s/^teacher outputs: ([0-9,]+) examples .* in ([0-9.]+) s .*/\\1 \\2/p" \
      "to-$runtime-$master.out" | tr -d ,)
    SECONDS_OF["$runtime-$master"]="$s"
    awk -v r="$runtime" -v m="$master" -v n="$n" -v s="$s" \
      'BEGIN { printf "teacher-outputs %-11s %s: %d examples in %.2f s = %.0f examples/s\n", r, m, n, s, n / s }'
  done
done
for runtime in dl4j onnxruntime; do
  awk -v r="$runtime" -v a="${SECONDS_OF[$runtime-local[1]]}" -v b="${SECONDS_OF[$runtime-local[2]]}" \
    'BEGIN { printf "%s: local[1] %.2f s / local[2] %.2f s = speedup %.2f\n", r, a, b, a / b }'
done
for master in "local[1]" "local[2]"; do
  awk -v m="$master" -v d="${SECONDS_OF[dl4j-$master]}" -v o="${SECONDS_OF[onnxruntime-$master]}" \
    'BEGIN { printf "%s: dl4j %.2f s / onnxruntime %.2f s = %.2fx\n", m, d, o, d / o }'
done
