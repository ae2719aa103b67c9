#!/usr/bin/env bash
# Run corpus entries against the emulator started by scripts/emulator.sh (same THINGFORM_RUN_DIR):
# validate, apply -auto-approve, plan -detailed-exitcode, destroy -auto-approve, each in a
# temporary copy of the entry. Prints "dir<TAB>pass" or "dir<TAB>fail at <step> (rc=N)".
# THINGFORM_BIN (default: thingform on PATH), CORPUS_LOGS (default /tmp/corpus-logs).
set -u
RUN="${THINGFORM_RUN_DIR:-$HOME/.cache/thingform/run}"
export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$RUN/moto.port")"
export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1
B="${THINGFORM_BIN:-thingform}"
LOGS="${CORPUS_LOGS:-/tmp/corpus-logs}"
mkdir -p "$LOGS"
for d in "$@"; do
  n=$(basename "$d")
  w=$(mktemp -d); cp -r "$d"/. "$w"/
  log="$LOGS/$n.log"; : > "$log"
  res=pass
  for step in validate "apply -auto-approve" "plan -detailed-exitcode" "destroy -auto-approve"; do
    echo "=== $step" >> "$log"
    (cd "$w" && timeout 300 "$B" $step) >> "$log" 2>&1 </dev/null; rc=$?
    echo "=== rc=$rc" >> "$log"
    if [ $rc -ne 0 ]; then
      res="fail at ${step%% *} (rc=$rc)"
      if [ "$step" != validate ] && [ "$step" != "destroy -auto-approve" ]; then
        echo "=== cleanup destroy" >> "$log"
        (cd "$w" && timeout 300 "$B" destroy -auto-approve) >> "$log" 2>&1 </dev/null
        echo "=== cleanup rc=$?" >> "$log"
      fi
      break
    fi
  done
  rm -rf "$w"
  printf '%s\t%s\n' "$n" "$res"
done
