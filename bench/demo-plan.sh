#!/usr/bin/env bash
# The demo plan end to end on the full data (train the MLP baseline, then `pipeline` with the shipped
# pipeline.candidates), timed with /usr/bin/time -v; then `report` of the run, rendered by headless Chromium
# (Debian `chromium`) into bench/report-demo.png: the check that the report renders.
# Usage: bench/demo-plan.sh [compactml options]     Output: the plan's table, wall time, peak RSS.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

/usr/bin/time -v "$CML" demo --run-id plan "$@" > demo.out 2> demo.err || { tail -5 demo.err >&2; exit 1; }
sed -n '/^pipeline run/,/^demo run .* succeeded/p' demo.out
grep -E "Elapsed \(wall clock\)|Maximum resident" demo.err
quiet report "$CML" report --run-id plan "$@"
if command -v chromium > /dev/null; then
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,3400 \
    --screenshot="$ROOT/bench/report-demo.png" "reports/plan/index.html" > /dev/null 2>&1
  echo "report screenshot: bench/report-demo.png"
else
  echo "no chromium (apt-get install chromium): report not rendered" >&2
fi
