#!/usr/bin/env bash
# Tables in raw units (jobs/src/test/resources/tabular, made by make_tables.py): what per-feature standardization
# buys the source model and its int8, pruned and distilled forms, against scikit-learn baselines on the same
# standardized tables (bench/tabular_baseline.py, Debian's python3-sklearn, when installed).
#   bench/tabular.sh        (about 40 minutes on 2 cores)
# loans: 3 classes, 8 features with standard deviations from 2e4 down to 2e-3, MLP 8-64-32-3, 30 epochs;
# loans-names: the loans tables with class names as labels, label-mapping = auto;
# regression: the article's shape 10 -> Dense(10, relu) -> Dense(1), 60 epochs. Both on local[2].
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
T="$ROOT/jobs/src/test/resources/tabular"

conf() {  # conf NAME TRAIN TEST FEATURES SCALING [LABEL-MAPPING]
  local s m="${6:-index}"
  echo "spark.master = \"local[2]\""
  echo "evaluate.latency-runs = 0"
  echo "quantize.sensitivity = false"
  for s in train calibration; do
    echo "data.$s { name = \"$1-train\", format = csv, uri = \"$T/$2\", features = \"$4\", label = label, label-mapping = $m, scaling = $5 }"
  done
  for s in eval monitor; do
    echo "data.$s { name = \"$1-test\", format = csv, uri = \"$T/$3\", features = \"$4\", label = label, label-mapping = $m, scaling = $5 }"
  done
}

metric() {  # metric CONF RUN MODEL METRIC
  "$CML" sql --config "$1" --format csv "SELECT round(value, 4) FROM evaluations WHERE run_id = '$2'
    AND model_name = '$3' AND metric = '$4' ORDER BY created_at DESC LIMIT 1" 2>/dev/null | tail -n +2
}

run() {  # run NAME CONF SCALING METRIC
  local name="$1" c="$2" scaling="$3" m="$4"
  local run="$name-$scaling"
  quiet "train-$run" "$CML" train --config "$c" --run-id "$run"
  quiet "eval-$run" "$CML" evaluate --config "$c" --run-id "$run"
  quiet "cal-$run" "$CML" calibrate --config "$c" --run-id "$run"
  quiet "quant-$run" "$CML" quantize --config "$c" --run-id "$run"
  quiet "prune-$run" "$CML" prune --config "$c" --run-id "$run" --set prune.target-sparsity=0.5
  quiet "soft-$run" "$CML" soft-labels --config "$c" --run-id "$run"
  quiet "distill-$run" "$CML" distill --config "$c" --run-id "$run"
  local erased; erased=$(grep -o 'input: [0-9]* of [0-9]* features span less than one int8 step' "cal-$run.out" \
    | grep -o '[0-9]* of [0-9]*' || true)
  printf '%-11s %-12s %8s %8s %8s %8s   %s\n' "$name" "$scaling" "$(metric "$c" "$run" "$name" "$m")" \
    "$(metric "$c" "$run" "$name-int8" "$m")" "$(metric "$c" "$run" "$name-pruned" "$m")" \
    "$(metric "$c" "$run" "$name-student" "$m")" "${erased:+int8 erases $erased features (calibrate)}"
}

LOANS='model.name = loans
network { hidden = [64, 32], outputs = 3 }
train { epochs = 30, learning-rate = 0.003, batch-size = 32 }'
REGRESSION='model.name = regression
task = regression
network { hidden = [10], outputs = 1 }
train { epochs = 60, learning-rate = 0.003, batch-size = 32 }'
for scaling in none standardize; do
  { conf loans loans-train.csv loans-test.csv 'f*' "$scaling"; echo "$LOANS"; } > "loans-$scaling.conf"
  { conf regression regression-train.csv regression-test.csv 'x*' "$scaling"; echo "$REGRESSION"; } \
    > "regression-$scaling.conf"
done
# the loans tables with class names as labels (loans-names-*.csv), label-mapping = auto
{ conf loans-names loans-names-train.csv loans-names-test.csv 'f*' standardize auto; echo "$LOANS"; \
  echo 'model.name = loans-names'; } > loans-names.conf
printf '%-11s %-12s %8s %8s %8s %8s\n' table scaling source int8 "pruned50" student
for scaling in none standardize; do
  run loans "loans-$scaling.conf" "$scaling" accuracy
done
run loans-names loans-names.conf standardize accuracy
for scaling in none standardize; do
  run regression "regression-$scaling.conf" "$scaling" mse
done
echo "(accuracy for loans, MSE for regression; pruned50: 50 % of the weights by magnitude, fine-tuned"
echo " prune.fine-tune-epochs; student: distill's chosen student, distill.student.hidden = [64], distill.epochs)"
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  /usr/bin/python3 "$ROOT/bench/tabular_baseline.py" "$T" 2>/dev/null
else
  echo "scikit-learn baselines skipped: apt-get install python3-sklearn"
fi
