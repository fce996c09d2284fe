# Sourced by the bench scripts: strict mode, the launcher, a temporary work directory (the current directory,
# removed on exit, so ./warehouse and ./artifacts of the runs land there) and two helpers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CML="$ROOT/bin/compactml"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

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
