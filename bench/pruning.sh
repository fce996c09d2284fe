#!/usr/bin/env bash
# Importance and pruning of the shipped MLP (784-512-256-10) on Fashion-MNIST, measured in one run:
#  1. importance pass / plain forward+backward pass over the same cached 60k training images, in one session
#     (ImportanceBenchmark: data, fwd+bwd and importance passes in turn, median of 5 after a warm-up);
#  2. the importance pass at local[2] vs local[1], and the peak live heap of `importance` over 60k vs 6k
#     images (largest heap occupancy after a collection, from the GC log, 64 MiB young generation);
#  3. the accuracy table: sparsity 50/75/90 % x {magnitude, taylor, fisher}, accuracy on the 10k test images
#     without fine-tuning (one-shot) and after prune.fine-tune-epochs (default 2) of fine-tuning under the masks;
#     the float and the int8 sparse file against the dense model zip;
#  4. structured pruning of half the neurons of each hidden layer: accuracy, size and the measured inference
#     latency against the dense model (both from `evaluate`'s latency probe, p50 of single-example and
#     256-example batches).
# Trains the MLP first (10 epochs, as the demo) unless MODEL=path/to/model.zip. Extra arguments go to every
# command. Usage: bench/pruning.sh [compactml options]; PARTS="1 2" runs only those parts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARGS=("$@")
PARTS="${PARTS:-1 2 3 4}"
has() { [[ " $PARTS " == *" $1 "* ]]; }
model="$(model_or_train pb "${ARGS[@]}")"
M=(--set "model.path=\"$model\"")
echo "model: $model ($(stat -c %s "$model") bytes)"

if has 1 || has 2; then
  for master in "local[2]" "local[1]"; do
    quiet "bench-$master" bench ImportanceBenchmark --run-id pb "${ARGS[@]}" "${M[@]}" \
      --set "spark.master=$master" --repeats 5
    echo "== $master"
    grep -E '^(.* examples, |data |fwd\+bwd |importance)' "bench-$master.out"
  done
  speedup importance
fi

if has 2; then
  live_heap() {  # largest heap occupancy after a collection, MiB
    COMPACTML_JAVA_OPTS="-XX:+UseSerialGC -Xmn64m -Xlog:gc:file=$WORK/gc-$1.log" \
      quiet "imp-$1" "$CML" importance --run-id "pb$1" "${ARGS[@]}" "${M[@]}" "${@:2}"
    sed -nE 's/.*Pause .*->([0-9]+)M\([0-9]+M\).*/\1/p' "$WORK/gc-$1.log" | sort -n | tail -n 1
  }
  big=$(live_heap 60k)
  small=$(live_heap 6k --set data.train.limit=6000)
  awk -v b="$big" -v s="$small" \
    'BEGIN { printf "peak live heap of importance: 60k %d MiB / 6k %d MiB = %.2f\n", b, s, b / s }'
fi

metric() {  # metric NAME FILE: the value `compactml sql` printed for it
  awk -F, -v m="$1" '$1 == m { print $2 }' "$2"
}
evaluation() {  # evaluation RUN MODEL: metric,value lines of that model's evaluation
  "$CML" sql --format csv "SELECT metric, value FROM evaluations WHERE run_id = '$1' AND model_name = '$2'" \
    "${ARGS[@]}"
}

if has 3 || has 4; then
  quiet importance "$CML" importance --run-id pb "${ARGS[@]}" "${M[@]}"
  grep -E 'importance pass|overlap' importance.out
  quiet dense "$CML" evaluate --run-id pb "${ARGS[@]}" "${M[@]}"
  evaluation pb fmnist-mlp > dense.csv
  dense_acc=$(metric accuracy dense.csv)
  dense_size=$(metric size_bytes dense.csv)
  printf 'dense: accuracy %.4f, %.0f bytes\n' "$dense_acc" "$dense_size"
fi

if has 3; then
  printf '%-9s %8s %9s %10s %10s %11s %11s %10s\n' criterion sparsity one-shot fine-tuned drop-ft \
    float-size int8-size int8-acc
  for c in magnitude taylor fisher; do
    for s in 0.5 0.75 0.9; do
      run="pb-$c-$s"
      quiet "$run" "$CML" prune --run-id "$run" "${ARGS[@]}" "${M[@]}" --set prune.importance-run=pb \
        --set prune.criterion=$c --set prune.sparsity=$s
      quiet "$run-int8" "$CML" prune --run-id "$run-int8" "${ARGS[@]}" "${M[@]}" --set prune.importance-run=pb \
        --set prune.criterion=$c --set prune.sparsity=$s --set prune.fine-tune-epochs=0 --set prune.int8=true
      # "  pruned model URI: accuracy A (one-shot O), weight sparsity W, N bytes: R smaller than the dense zip"
      read -r f o fs < <(sed -nE 's/^  pruned model .*: accuracy ([0-9.]+) \(one-shot ([0-9.]+)\).*, ([0-9,]+) bytes: .*/\1 \2 \3/p' \
        "$run.out" | tr -d ,)
      read -r qa qs < <(sed -nE 's/^  pruned model .*: accuracy ([0-9.]+) .*, ([0-9,]+) bytes: .*/\1 \2/p' \
        "$run-int8.out" | tr -d ,)
      awk -v c="$c" -v s="$s" -v d="$dense_acc" -v ds="$dense_size" -v o="$o" -v f="$f" -v fs="$fs" -v qs="$qs" \
        -v qa="$qa" 'BEGIN { printf "%-9s %7.0f%% %9.4f %10.4f %10.2f %6d %4.1fx %6d %4.1fx %10.4f\n",
                 c, 100 * s, o, f, 100 * (d - f), fs, ds / fs, qs, ds / qs, qa }'
    done
  done
fi

if has 4; then
  quiet units "$CML" prune --run-id pb-units "${ARGS[@]}" "${M[@]}" --set prune.importance-run=pb \
    --set prune.structure=units --set prune.sparsity=0.5
  evaluation pb-units fmnist-mlp-pruned > units.csv
  awk -v d="$dense_acc" -v ds="$dense_size" -v o="$(metric accuracy_one_shot units.csv)" \
    -v f="$(metric accuracy units.csv)" -v s="$(metric size_bytes units.csv)" -v p="$(metric param_count units.csv)" \
    -v l1="$(metric latency_single_p50_ms dense.csv)" -v l2="$(metric latency_single_p50_ms units.csv)" \
    -v b1="$(metric latency_batch_p50_ms dense.csv)" -v b2="$(metric latency_batch_p50_ms units.csv)" \
    'BEGIN { printf "units 50%%: %d parameters, accuracy one-shot %.4f, fine-tuned %.4f (dense %.4f), %d bytes"\
             " (%.1fx smaller); latency p50 single %.3f -> %.3f ms (%.2fx), batch %.2f -> %.2f ms (%.2fx)\n",
             p, o, f, d, s, ds / s, l1, l2, l1 / l2, b1, b2, b1 / b2 }'
fi
