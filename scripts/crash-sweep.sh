#!/usr/bin/env bash
# A crash at every call: runs tests/integration/crash.rs with a stride of 1, so
# `thingform apply` of stacks/campus is stopped at every one of its AWS calls (SIGKILL,
# then a first Ctrl-C), and destroy at every DESTROY_STRIDE-th call; after each stop the
# next run must converge with no duplicate and no orphan. Prints the figures.
#
#   scripts/crash-sweep.sh [kill|interrupt|all]     (default: all)
#   SHARDS=2 DESTROY_STRIDE=10 scripts/crash-sweep.sh kill
#   SWEEP_LOGS=DIR ...     keeps each shard's log (DIR/kill.1.log, ...), written as it goes
#
# Each shard has its own moto server and stack copy (shard i tries k = i, i+SHARDS, ...).
# A full sweep takes about an hour on two cores; CI runs a fixed stride instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
WHICH="${1:-all}"
SHARDS="${SHARDS:-1}"
DESTROY_STRIDE="${DESTROY_STRIDE:-10}"
scripts/emulator.sh install
PATH="$(scripts/cargo-lambda.sh):$PATH"
export PATH

# The test binary and a copy of thingform, so rebuilding during the sweep changes nothing.
BIN="$(cargo test --test integration --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="integration" and m.get("executable"):
        print(m["executable"])' | tail -1)"
cargo build --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$CARGO_TARGET_DIR/debug/thingform" "$WORK/thingform"
cp "$BIN" "$WORK/integration"
LOGS="${SWEEP_LOGS:-$WORK}"
mkdir -p "$LOGS"
export THINGFORM_CRASH_BIN="$WORK/thingform"

run() { # NAME TEST-FILTER
  local name="$1" filter="$2" pids=() i
  for i in $(seq 1 "$SHARDS"); do
    THINGFORM_CRASH_FIRST="$i" THINGFORM_CRASH_STRIDE="$SHARDS" THINGFORM_INTERRUPT_STRIDE="$SHARDS" \
      THINGFORM_CRASH_DESTROY_STRIDE="$((DESTROY_STRIDE * SHARDS))" \
      THINGFORM_INTERRUPT_DESTROY_STRIDE="$((DESTROY_STRIDE * SHARDS))" \
      "$WORK/integration" --exact "$filter" --nocapture >"$LOGS/$name.$i.log" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
  done
  cat "$LOGS"/"$name".*.log | grep -E "^crash sweep|^  ok:|^  FAILED:|panicked" || true
  local a d
  a="$(cat "$LOGS"/"$name".*.log | grep -c "^  ok: apply" || true)"
  d="$(cat "$LOGS"/"$name".*.log | grep -c "^  ok: destroy" || true)"
  f="$(cat "$LOGS"/"$name".*.log | grep -c "^  FAILED:" || true)"
  echo "== $name: $a stop points across apply and $d across destroy recovered with nothing duplicated or orphaned; $f did not"
  if [[ $failed == 1 ]]; then
    cat "$LOGS"/"$name".*.log | tail -60
    return 1
  fi
}

status=0
if [[ "$WHICH" == kill || "$WHICH" == all ]]; then
  run kill crash::sigkill_at_a_stride_of_calls_across_apply_and_destroy_converges || status=1
fi
if [[ "$WHICH" == interrupt || "$WHICH" == all ]]; then
  run interrupt crash::a_first_ctrl_c_at_a_stride_of_calls_stops_cleanly_and_converges || status=1
fi
exit $status
