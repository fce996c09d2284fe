#!/usr/bin/env bash
# Cost of distributed calibration, as ratios measured in one run on the same data and cores:
#  1. calibration pass / plain batched inference pass over the same cached 60k images, in one session, in DL4J
#     and in ONNX Runtime (CalibrationBenchmark: data, inference, calibration, inference-ort and calibration-ort
#     passes in turn, median of 5 after a warm-up), and the DL4J calibration pass / the ONNX Runtime one;
#  2. the calibration passes at local[2] vs local[1] (one BLAS thread per task, as bin/compactml sets);
#  3. peak live heap of `calibrate` (the job as shipped, streaming its data) over 60k vs 6k images: the largest
#     heap occupancy after a collection, from the GC log, with a 64 MiB young generation so collections are
#     frequent and the figure follows the live data.
# Trains the MLP for one epoch first (or uses MODEL=path/to/model.zip). Extra arguments go to every command,
# e.g. bench/calibration.sh --config conf/cnn.conf --set data.calibration.limit=3000
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
model="$(model_or_train cb "${ARGS[@]}" --set train.epochs=1 --set train.validate=false)"
M=(--set "model.path=\"$model\"")

for master in "local[2]" "local[1]"; do
  quiet "bench-$master" bench CalibrationBenchmark --run-id cb "${ARGS[@]}" "${M[@]}" \
    --set "spark.master=$master" --repeats 5
  echo "== $master"
  grep -E '^(.* examples, |data |inference|calibration)' "bench-$master.out"
  awk -v d="$(median calibration "bench-$master.out")" -v i="$(median inference "bench-$master.out")" \
    -v o="$(median calibration-ort "bench-$master.out")" -v m="$master" 'BEGIN {
      printf "%s: dl4j calibration / inference %.3f; calibration dl4j / onnxruntime = %.1fx faster\n", m, d / i, d / o
    }'
done
speedup calibration
speedup calibration-ort

live_heap() {  # largest heap occupancy after a collection, MiB
  COMPACTML_JAVA_OPTS="-XX:+UseSerialGC -Xmn64m -Xlog:gc:file=$WORK/gc-$1.log" \
    "$CML" calibrate --run-id "cb$1" "${ARGS[@]}" "${M[@]}" "${@:2}" > "cal-$1.out" 2> "cal-$1.err" \
    || { tail -5 "cal-$1.err" >&2; exit 1; }
  sed -nE 's/.*Pause .*->([0-9]+)M\([0-9]+M\).*/\1/p' "$WORK/gc-$1.log" | sort -n | tail -n 1
}
big=$(live_heap 60k)
small=$(live_heap 6k --set data.calibration.limit=6000)
awk -v b="$big" -v s="$small" \
  'BEGIN { printf "peak live heap of calibrate: 60k %d MiB / 6k %d MiB = %.2f\n", b, s, b / s }'
