#!/usr/bin/env bash
# Training throughput of the shipped MLP and CNN at Spark local[1] and local[2], measured in one run on the
# same data, validation off. Reports the last epoch (JIT warm) and the local[2] / local[1] speedup.
# Usage: bench/train-throughput.sh [mlp] [cnn]   (default: both)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# prints the samples/s of the last epoch
run() {
  local master="$1"; shift
  "$CML" train --run-id "tp-${RANDOM}" --set "spark.master=$master" --set train.validate=false "$@" \
    > out.log 2> err.log || { tail -5 err.log >&2; exit 1; }
  grep -E '^epoch' out.log | tail -1 | sed -E 's/.* ([0-9,]+) samples\/s.*/\1/' | tr -d ,
}

nets=("$@")
[[ ${#nets[@]} -eq 0 ]] && nets=(mlp cnn)
for net in "${nets[@]}"; do
  if [[ $net == mlp ]]; then
    args=(--set train.epochs=3)
  else
    args=(--config "$ROOT/conf/cnn.conf" --set train.epochs=2 --set data.train.limit=6000)
  fi
  one=$(run "local[1]" "${args[@]}")
  two=$(run "local[2]" "${args[@]}")
  awk -v n="$net" -v a="$one" -v b="$two" \
    'BEGIN { printf "%s: local[1] %d samples/s, local[2] %d samples/s, speedup %.2f\n", n, a, b, b / a }'
done
