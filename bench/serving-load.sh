#!/usr/bin/env bash
# Load on compactml-serve from another process on loopback (wrk, Debian's HTTP load generator, with
# bench/wrk/infer.lua: one-row Open Inference Protocol requests of 784 features): requests/s and p50/p99 latency at
# 1, 8 and 32 concurrent connections, with dynamic batching (up to 32 rows, serve.max-queue-delay-ms 0) and without
# (serve.max-batch-size = 1), for the float and int8 artifacts of the shipped MLP and CNN, each run bounded in time
# (RUN_SECONDS, default 5) after a 3 s warm-up; the server's own time per request comes from its /metrics. Then 32
# connections while a new version is published and swapped in (40 s). Any failed request (non-2xx, socket error)
# fails the script. The models are trained briefly (latency does not depend on what they learnt).
# Options (environment): RUN_SECONDS, MODELS (default "mlp cnn").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUN="${RUN_SECONDS:-5}"
SCRIPT="$ROOT/bench/wrk/infer.lua"
SERVE_JAR="$ROOT/serve/target/compactml-serve-0.1.0-SNAPSHOT-all.jar"
if ! command -v wrk > /dev/null; then
  echo "serving-load: installing Debian's wrk" >&2
  if [[ $(id -u) == 0 ]]; then apt-get install -y -q wrk > /dev/null; else sudo -n apt-get install -y -q wrk > /dev/null; fi \
    || { echo "serving-load: needs wrk: apt-get install wrk" >&2; exit 1; }
fi
[[ -f "$SERVE_JAR" ]] || (cd "$ROOT" && mvn -B -q -DskipTests package -pl serve -am)

# artifacts NAME CONFIG...: trains, evaluates, calibrates, quantizes and publishes float and int8 as version v1
artifacts() {
  local name="$1"; shift
  local opts=(--run-id load "$@" --set train.epochs=1 --set data.eval.limit=2000 --set data.calibration.limit=2000
              --set spark.master=local[2] --set publish.version=v1)
  for job in train evaluate calibrate quantize; do quiet "$name-$job" "$CML" "$job" "${opts[@]}"; done
  quiet "$name-publish" "$CML" publish "${opts[@]}"
  quiet "$name-publish-int8" "$CML" publish "${opts[@]}" --set publish.model=int8
}

# serve MODEL NAME [--set ...]: starts the server on a free port, waits until it listens, sets PORT and PID
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

# server_time: "<sum> <count>" of the server's request-seconds histogram
server_time() {
  curl -s "http://127.0.0.1:$PORT/metrics" \
    | awk '/^compactml_serve_request_seconds_sum/ {s=$2} /^compactml_serve_request_seconds_count/ {c=$2} END {print s, c}'
}

# load LABEL MODEL CONNECTIONS SECONDS: one wrk run, one line; exits 1 on any failed request
load() {
  local label="$1" model="$2" c="$3" seconds="$4" threads=2 before after out
  [[ $c == 1 ]] && threads=1
  before="$(server_time)"
  out="$(wrk -t"$threads" -c"$c" -d"${seconds}s" --latency -s "$SCRIPT" "http://127.0.0.1:$PORT/v2/models/$model/infer")"
  after="$(server_time)"
  echo "$out" > "wrk-${label// /_}-$c.txt"
  awk -v label="$label" -v c="$c" -v b="$before" -v a="$after" '
    function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
    /requests in/ { n = $1 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) } /Requests\/sec/ { rps = $2 }
    /Non-2xx|Socket errors/ { failed = 1 }
    END { split(b, x, " "); split(a, y, " ");
          printf "load %-22s connections %3d  requests %7d  %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  failed %s  server %.3f ms/request\n",
                 label, c, n, rps, p50, p99, failed ? "YES" : "0", (y[1] - x[1]) / (y[2] - x[2]) * 1000 }' <<< "$out"
  if grep -qE "Non-2xx|Socket errors" <<< "$out"; then echo "failed requests: $out" >&2; exit 1; fi
}

for net in ${MODELS:-mlp cnn}; do
  if [[ $net == cnn ]]; then artifacts cnn --config "$ROOT/conf/cnn.conf" --set data.train.limit=5000; model=fmnist-cnn
  else artifacts mlp --set data.train.limit=10000; model=fmnist-mlp; fi
  for kind in float int8; do
    served="$model"; [[ $kind == int8 ]] && served="$model-int8"
    for batching in 32 1; do
      label="$net $kind batch<=$batching"; [[ $batching == 1 ]] && label="$net $kind no-batching"
      serve "$served" "$net-$kind-$batching" --set serve.max-batch-size=$batching
      wrk -t2 -c32 -d3s -s "$SCRIPT" "http://127.0.0.1:$PORT/v2/models/$served/infer" > /dev/null
      for c in 1 8 32; do load "$label" "$served" "$c" "$RUN"; done
      stop
    done
  done
done

# a new version published and swapped in while 32 connections load the server
serve fmnist-mlp swap --set serve.max-batch-size=32
( sleep 3; "$CML" publish --run-id load --set publish.version=v2 > publish-v2.out 2> publish-v2.err ) &
PUBLISHER=$!
load "mlp float swap v1->v2" fmnist-mlp 32 40
wait "$PUBLISHER"
grep -o "Now serving fmnist-mlp version v2 (was v1)" "serve-swap.err" || { echo "no swap happened" >&2; exit 1; }
stop
echo "compactml-serve jar: $(stat -c %s "$SERVE_JAR" | awk '{printf "%.1f MB", $1 / 1e6}'); total $SECONDS s"
