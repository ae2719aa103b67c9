#!/usr/bin/env bash
# The main job end to end with no AWS account: start the local emulator, then plan,
# apply, show outputs, re-plan (no changes) and destroy a stack (default stacks/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${1:-stacks/demo}"
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"

cargo build --quiet --bin thingform
TF="$CARGO_TARGET_DIR/debug/thingform"
eval "$(scripts/emulator.sh env)"
echo "== emulator at $AWS_ENDPOINT_URL (region $AWS_REGION)"

echo "== thingform plan $STACK"
"$TF" plan "$STACK"
echo "== thingform apply -auto-approve $STACK"
"$TF" apply -auto-approve "$STACK"
echo "== thingform output"
(cd "$STACK" && "$TF" output)
echo "== thingform plan -detailed-exitcode $STACK (expect no changes)"
"$TF" plan -detailed-exitcode "$STACK"
if [[ "${KEEP:-0}" != "1" ]]; then
  echo "== thingform destroy -auto-approve $STACK"
  "$TF" destroy -auto-approve "$STACK"
fi
