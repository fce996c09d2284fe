#!/usr/bin/env bash
# Structured pruning ranked by activation entropy (importance.criteria entropy) against magnitude and taylor, on
# the shipped MLP (784-512-256-10) and CNN (32-64 conv + 128 dense), Fashion-MNIST, measured in one run:
#  1. cost: the entropy pass / a plain inference pass over the same cached training images, both in DL4J, in one
#     session (EntropyBenchmark: data, inference and entropy passes in turn, median of 3 after a warm-up);
#  2. the table: 25 % and 50 % of the channels of every hidden layer removed by each criterion; accuracy on the
#     10k test images one-shot (before fine-tuning) and after fine-tuning, parameters, the sparse file and
#     model.onnx sizes, and the ONNX Runtime latency `evaluate` measures (p50, 1 example and 256), against the
#     dense model.
# The MLP trains 10 epochs on the 60k training images (the demo's); its importance and fine-tuning (2 epochs) use
# all 60k. The CNN trains 1 epoch on 60k (DL4J's CPU convolution trains it at about 275 samples/s here, see
# Benchmarks); its importance, entropy cost and fine-tuning (1 epoch) use the first 12k training images.
# Extra arguments go to every command. Usage: bench/entropy-pruning.sh [compactml options]; NETS="mlp" or
# PARTS="1" run only those.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
NETS="${NETS:-mlp cnn}"
PARTS="${PARTS:-1 2}"
has() { [[ " $PARTS " == *" $1 "* ]]; }

metric() {  # metric NAME FILE: the value `compactml sql` printed for it
  awk -F, -v m="$1" '$1 == m { print $2 }' "$2"
}
evaluation() {  # evaluation RUN MODEL: metric,value lines of that model's evaluation
  "$CML" sql --format csv "SELECT metric, value FROM evaluations WHERE run_id = '$1' AND model_name = '$2'" \
    "${ARGS[@]}"
}
onnx_size() {  # onnx_size RUN: bytes of the model.onnx written under run RUN
  stat -c %s "$(find "$WORK/warehouse/models" -path "*/$1/model.onnx" | sed -n 1p)"
}
row() {  # row LABEL CSV ONNX_BYTES
  awk -v l="$1" -v a="$(metric accuracy "$2")" -v o="$(metric accuracy_one_shot "$2")" \
    -v p="$(metric param_count "$2")" -v s="$(metric size_bytes "$2")" -v x="$3" \
    -v l1="$(metric latency_single_p50_ms "$2")" -v b1="$(metric latency_batch_p50_ms "$2")" \
    'BEGIN { if (o == "") o = "-"; else o = sprintf("%.4f", o)
             printf "| %s | %s | %.4f | %d | %d | %d | %.3f | %.2f |\n", l, o, a, p, s, x, l1, b1 }'
}

for net in $NETS; do
  if [[ $net == mlp ]]; then
    NET=()
    DATA=()
    name=fmnist-mlp
  else
    NET=(--config "$ROOT/conf/cnn.conf")
    DATA=(--set data.train.limit=12000 --set prune.fine-tune-epochs=1)
    name=fmnist-cnn
  fi
  quiet "train-$net" "$CML" train --run-id "eb-$net" "${NET[@]}" "${ARGS[@]}" --set train.epochs=$([[ $net == mlp ]] && echo 10 || echo 1)
  model="$(find "$WORK/warehouse/models" -path "*/eb-$net/model.zip" | sed -n 1p)"
  M=(--set "model.path=\"$model\"")
  echo "== $net: $model ($(stat -c %s "$model") bytes)"

  if has 1; then
    quiet "cost-$net" bench EntropyBenchmark --run-id "eb-$net-cost" "${NET[@]}" "${ARGS[@]}" "${M[@]}" "${DATA[@]}" \
      --repeats 3
    grep -E '^(.* examples, |data |inference |entropy)' "cost-$net.out"
  fi

  if has 2; then
    quiet "importance-$net" "$CML" importance --run-id "eb-$net" "${NET[@]}" "${ARGS[@]}" "${M[@]}" "${DATA[@]}" \
      --set 'importance.criteria=["taylor", "entropy"]'
    grep -E 'pass:|overlap' "importance-$net.out"
    quiet "dense-$net" "$CML" evaluate --run-id "eb-$net" "${NET[@]}" "${ARGS[@]}" "${M[@]}"
    evaluation "eb-$net" "$name" > "dense-$net.csv"
    echo "| model | one-shot | accuracy | parameters | file (B) | model.onnx (B) | ONNX Runtime p50, 1 example (ms) | p50, 256 (ms) |"
    echo "|---|---|---|---|---|---|---|---|"
    row "$net dense" "dense-$net.csv" "$(onnx_size "eb-$net")"
    for s in 0.25 0.5; do
      for c in magnitude taylor entropy; do
        run="eb-$net-$c-$s"
        quiet "$run" "$CML" prune --run-id "$run" "${NET[@]}" "${ARGS[@]}" "${M[@]}" "${DATA[@]}" \
          --set prune.importance-run="eb-$net" --set prune.structure=channels --set prune.criterion=$c \
          --set prune.target-sparsity=$s
        evaluation "$run" "$name-pruned" > "$run.csv"
        row "$net $c $(awk -v s=$s 'BEGIN { printf "%.0f %%", 100 * s }')" "$run.csv" "$(onnx_size "$run")"
      done
    done
  fi
done
