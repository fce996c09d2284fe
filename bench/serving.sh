#!/usr/bin/env bash
# Serving latency in one run (ServingBenchmark): ONNX Runtime float vs int8 (CompactML's QDQ export) and DL4J
# float vs ONNX Runtime float, at batch 1 and 256, for the shipped MLP and CNN and the same networks with half
# their channels (what structured pruning of half the channels leaves); int8 also with the first layer kept in
# float (quantize.float-layers = [0], column "int8 l0 fp"). ONNX Runtime with 2 intra-op threads,
# DL4J with 2 OpenMP threads. Extra arguments go to the benchmark: --runs N, --threads N,
# --activations uint8, --per-tensor, --nchw-flatten (the int8 CNN flattened channel-first, for comparison).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
bench ServingBenchmark --runs 1000 "$@"
