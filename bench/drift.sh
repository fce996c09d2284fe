#!/usr/bin/env bash
# Drift statistics on real shifts (DriftBenchmark), in one Spark session: the shipped MLP trained for 2 epochs,
# evaluated, calibrated on 10,000 training images and published; then `monitor`'s statistics for 20 clean random
# windows of 1,000 test images (the false-alarm rate) and for the whole test set as it is, darker (x0.5),
# brighter (+0.3), inverted and with Gaussian noise (sigma 0.2). Extra arguments go to the benchmark
# (--windows N, --window-rows N).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
opts=(--run-id drift --set train.epochs=2 --set data.calibration.limit=10000 --set spark.master=local[2])
for job in train evaluate calibrate publish; do quiet "$job" "$CML" "$job" "${opts[@]}"; done
bench DriftBenchmark "${opts[@]}" "$@" 2> drift.err | grep -E '^(drift|false alarms)'
