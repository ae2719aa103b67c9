#!/usr/bin/env bash
# The main job end to end with no AWS account: start the local emulator, build the Rust
# ingest Lambda with cargo-lambda, then plan, apply, show the outputs, re-plan (no
# changes) and destroy the campus sensor stack (env dev). The emulator this script
# starts is stopped when it exits (on success, error or Ctrl-C); one that was already
# running is left alone. KEEP=1 skips the destroy and keeps the emulator running (the
# objects live in it; stop it with `scripts/emulator.sh stop`).
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${1:-stacks/campus}"
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
RUN="${THINGFORM_RUN_DIR:-$THINGFORM_CACHE/run}"

cargo build --quiet --bin thingform
TF="$CARGO_TARGET_DIR/debug/thingform"
PATH="$(scripts/cargo-lambda.sh):$PATH"
export PATH
if [[ -f "$RUN/moto.pid" ]] && kill -0 "$(cat "$RUN/moto.pid")" 2>/dev/null; then
  STARTED=0
else
  STARTED=1
fi
stop_emulator() {
  if [[ "$STARTED" == "1" && "${KEEP:-0}" != "1" ]]; then
    scripts/emulator.sh stop
    echo "== stopped the emulator this demo started"
  fi
}
trap stop_emulator EXIT
eval "$(scripts/emulator.sh env)"
echo "== emulator at $AWS_ENDPOINT_URL (region $AWS_REGION)"

echo "== thingform plan -w dev -var env=dev $STACK"
"$TF" plan -w dev -var env=dev "$STACK"
echo "== thingform apply -auto-approve -w dev -var env=dev $STACK   (builds lambdas/ingest first)"
"$TF" apply -auto-approve -w dev -var env=dev "$STACK"
echo "== thingform output -w dev"
"$TF" output -w dev -dir "$STACK"
echo "== thingform apply again: nothing to change"
"$TF" apply -auto-approve -w dev -var env=dev "$STACK"
if [[ "${KEEP:-0}" != "1" ]]; then
  echo "== thingform destroy -auto-approve -w dev -var env=dev $STACK"
  "$TF" destroy -auto-approve -w dev -var env=dev "$STACK"
fi
if compgen -G "$STACK/tests/*.tftest.hcl" >/dev/null; then
  echo "== thingform test -verbose $STACK   (its own environment: publishes readings through the deployed rules, runs the ingest Lambda locally, checks what landed, destroys it)"
  "$TF" test -verbose "$STACK"
fi
