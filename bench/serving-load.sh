#!/usr/bin/env bash
# Load on compactml-serve (ServingLoadBenchmark, a load generator in another process on loopback): requests/s and
# p50/p99 latency at 1, 8 and 32 concurrent clients sending one-row requests, with dynamic batching (up to 32 rows,
# 2 ms) and without, for the float and the int8 MLP artifact; then 32 clients while a new version is published and
# swapped in. Every run is bounded (--seconds, --max-requests); any failed request fails the script.
# The model: the shipped MLP (784-512-256-10) trained for one epoch (latency does not depend on what it learnt).
# Options: RUN_SECONDS (default 5 per run), CLIENTS (default 1,8,32).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SECONDS_PER_RUN="${RUN_SECONDS:-5}"
SECONDS=0
CLIENTS="${CLIENTS:-1,8,32}"
SERVE_JAR="$ROOT/serve/target/compactml-serve-0.1.0-SNAPSHOT-all.jar"
[[ -f "$SERVE_JAR" ]] || (cd "$ROOT" && mvn -B -q -DskipTests package -pl serve -am)
opts=(--run-id load --set data.train.limit=10000 --set train.epochs=1 --set data.eval.limit=2000
      --set data.calibration.limit=2000 --set spark.master=local[2] --set publish.version=v1)
for job in train evaluate calibrate quantize; do quiet "$job" "$CML" "$job" "${opts[@]}"; done
quiet publish-float "$CML" publish "${opts[@]}"
quiet publish-int8 "$CML" publish "${opts[@]}" --set publish.model=int8

# serve MODEL NAME [--set ...]: starts the server on a free port, waits until it is ready, sets PORT and PID
serve() {
  local model="$1" name="$2"; shift 2
  java -Xmx1g -jar "$SERVE_JAR" --model "$model" --port 0 --set serve.poll-interval-ms=500 "$@" \
    > "serve-$name.out" 2> "serve-$name.err" &
  PID=$!
  for _ in $(seq 600); do
    PORT="$(sed -nE 's/.*Serving .* on http:\/\/[^:]+:([0-9]+)\/.*/\1/p' "serve-$name.err")"
    [[ -n "$PORT" ]] && return
    kill -0 "$PID" 2>/dev/null || { cat "serve-$name.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "server $name did not start" >&2; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID"; }

for model in fmnist-mlp fmnist-mlp-int8; do
  kind=float; [[ "$model" == *int8 ]] && kind=int8
  for batching in 32 1; do
    label="$kind batch<=$batching"; [[ $batching == 1 ]] && label="$kind no-batching"
    serve "$model" "$kind-$batching" --set serve.max-batch-size=$batching
    bench ServingLoadBenchmark --server "http://127.0.0.1:$PORT" --model "$model" --label "$label" \
      --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" 2> "load-$kind-$batching.err" | grep '^load'
    stop
  done
done

# a new version published and swapped in while 32 clients load the server
serve fmnist-mlp swap --set serve.max-batch-size=32
( sleep 3; "$CML" publish "${opts[@]}" --set publish.version=v2 > publish-v2.out 2> publish-v2.err ) &
PUBLISHER=$!
bench ServingLoadBenchmark --server "http://127.0.0.1:$PORT" --model fmnist-mlp --label "float swap v1->v2" \
  --clients 32 --seconds 40 2> load-swap.err | grep '^load'
wait "$PUBLISHER"
grep -o "Now serving fmnist-mlp version v2 (was v1)" "serve-swap.err" || { echo "no swap happened" >&2; exit 1; }
stop
echo "compactml-serve jar: $(du -m "$SERVE_JAR" | cut -f1) MB; total $SECONDS s"
