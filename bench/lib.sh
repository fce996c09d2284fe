# Sourced by the bench scripts: strict mode, the launcher, a temporary work directory (the current directory,
# removed on exit, so ./warehouse and ./artifacts of the runs land there) and the helpers below.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CML="$ROOT/bin/compactml"
# a relative --config path names a file where the bench was started: made absolute before the work directory is
# entered (this rewrites the sourcing script's own arguments)
_bench_args=()
_bench_prev=""
for _a in "$@"; do
  if [[ "$_bench_prev" == "--config" && "$_a" != /* ]]; then
    _a="$PWD/$_a"
  elif [[ "$_a" == --config=* && "${_a#--config=}" != /* ]]; then
    _a="--config=$PWD/${_a#--config=}"
  fi
  _bench_args+=("$_a")
  _bench_prev="$_a"
done
set -- "${_bench_args[@]}"
unset _a _bench_prev _bench_args
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# on_cluster: the rest of the bench runs its jobs on a local standalone cluster (bin/spark-local: a Master and two
# one-core Workers) with tables, models and artifacts in the local S3 server (bin/s3-local), both started in the
# work directory and stopped on exit; sets CML to a launcher that submits to it and CLUSTER_ARGS to its config.
on_cluster() {
  export SPARK_LOCAL_DIR="$WORK/.spark-local" S3_LOCAL_DIR="$WORK/.s3-local"
  export AWS_ACCESS_KEY_ID=compactml-local AWS_SECRET_ACCESS_KEY="${S3_LOCAL_SECRET:-compactml-local-secret}"
  trap '"$ROOT/bin/spark-local" stop > /dev/null; "$ROOT/bin/s3-local" stop > /dev/null; rm -rf "$WORK"' EXIT
  "$ROOT/bin/s3-local" start > s3-local.out
  "$ROOT/bin/spark-local" start > spark-local.out
  printf '#!/usr/bin/env bash\nexec "%s/bin/spark-local" submit "$@"\n' "$ROOT" > "$WORK/submit"
  chmod +x "$WORK/submit"
  CML="$WORK/submit"
  CLUSTER_ARGS=(--config "$ROOT/conf/cluster-local.conf")
}

# quiet NAME COMMAND...: stdout to NAME.out, stderr to NAME.err; on failure the end of NAME.err, and exit 1
quiet() {
  local name="$1"; shift
  "$@" > "$name.out" 2> "$name.err" || { tail -5 "$name.err" >&2; exit 1; }
}

# model_or_train RUN [compactml options]: prints the path of $MODEL when set, else trains under run id RUN
# (with the options) and prints the path of the model it saved
model_or_train() {
  local run="$1"; shift
  if [[ -n "${MODEL:-}" ]]; then
    echo "$MODEL"
    return
  fi
  quiet "train-$run" "$CML" train --run-id "$run" "$@"
  find "$WORK/warehouse/models" -path "*/$run/model.zip" | sed -n 1p
}

# bench CLASS [options]: runs a benchmark of the bench module (io.compactml.bench.CLASS) as bin/compactml runs a
# job; builds the bench jar on first use. The benchmarks are not part of the jobs jar that spark-submit ships.
bench() {
  local class="$1"; shift
  local jar="$ROOT/bench/target/compactml-bench-0.1.0-SNAPSHOT.jar"
  if [[ ! -f "$jar" ]]; then
    echo "bench: building $jar (first run only) ..." >&2
    (cd "$ROOT" && mvn -B -q -DskipTests package -pl bench -am) >&2
  fi
  COMPACTML_EXTRA_CP="$jar" COMPACTML_MAIN="io.compactml.bench.$class" "$CML" "$@"
}

# median PASS FILE: the median seconds a PassBenchmark printed for PASS
median() { sed -nE "s/^$1 +pass: median ([0-9.]+) s.*/\1/p" "$2"; }

# speedup PASS: the PASS medians of bench-local[1].out and bench-local[2].out, and their ratio
speedup() {
  awk -v p="$1" -v a="$(median "$1" "bench-local[1].out")" -v b="$(median "$1" "bench-local[2].out")" \
    'BEGIN { printf "%s pass local[1] %.3f s / local[2] %.3f s = speedup %.2f\n", p, a, b, a / b }'
}
