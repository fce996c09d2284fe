#!/usr/bin/env bash
# The shipped baselines on all of Fashion-MNIST: the MLP (conf/local.conf, as `demo` runs it) and the CNN
# (conf/cnn.conf), trained on the 60k training images and evaluated on the 10k test images.
# Prints each model's test accuracy, its last-epoch training throughput and the demo's wall time.
# Usage: bench/baselines.sh [extra compactml options, e.g. --set spark.master=local[2]]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for conf in local cnn; do
  start=$(date +%s.%N)
  "$CML" demo --config "$ROOT/conf/$conf.conf" --run-id "bench-$conf" "$@" > "$conf.out" 2> "$conf.err" \
    || { cat "$conf.err" >&2; exit 1; }
  end=$(date +%s.%N)
  grep -E '^epoch' "$conf.out" | tail -1 | sed "s/^/$conf last /"
  grep -E '^\s+(model|accuracy|size|training|latency) ' "$conf.out"
  awk -v s="$start" -v e="$end" -v c="$conf" 'BEGIN { printf "%s demo wall time: %.1f s\n\n", c, e - s }'
done
