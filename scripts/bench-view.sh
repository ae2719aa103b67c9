#!/usr/bin/env bash
# Page weight and render time of the HTML view at fleet size, with no AWS: a plan of
# N things (default 5,000) in G groups plus their certificates and attachments is
# made offline (-refresh=false, empty state, AWS pointed at a closed loopback port),
# rendered with `show -html`, and loaded in headless Chromium.
#   scripts/bench-view.sh [N] [G]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5000}"
G="${2:-20}"
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
cargo build --quiet --bin thingform
TF="$CARGO_TARGET_DIR/debug/thingform"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PER=$(( N / G ))
{
  echo 'provider "aws" {'
  echo '  region = "eu-west-1"'
  echo '}'
  echo 'resource "aws_iot_thing_type" "sensor" {'
  echo '  name = "sensor"'
  echo '}'
  for g in $(seq 1 "$G"); do
    cat <<TF
resource "aws_iot_thing_group" "g$g" {
  name = "group-$g"
}
resource "aws_iot_thing" "n$g" {
  count           = $PER
  name            = "g$g-node-\${count.index}"
  thing_type_name = aws_iot_thing_type.sensor.name
  attributes      = { group = aws_iot_thing_group.g$g.name }
}
TF
  done
} > "$WORK/main.tf"
export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
now() { date +%s.%N; }
t0=$(now); "$TF" plan -refresh=false -out "$WORK/p.tfplan" "$WORK" >/dev/null; t1=$(now)
"$TF" show -html "$WORK/p.tfplan" > "$WORK/plan.html"; t2=$(now)
echo "instances:        $(( PER * G + G + 1 )) in $(( 2 * G + 1 )) resources"
printf 'plan -out:        %.2fs\n' "$(echo "$t1 - $t0" | bc)"
printf 'show -html:       %.2fs (layout included)\n' "$(echo "$t2 - $t1" | bc)"
echo "page weight:      $(wc -c < "$WORK/plan.html") bytes ($(gzip -c "$WORK/plan.html" | wc -c) gzipped)"
CHROMIUM="${THINGFORM_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$CHROMIUM" ]]; then
  echo "render:           SKIPPED (no chromium)"
  exit 0
fi
# --dump-dom prints the DOM after the page's script has run.
t3=$(now)
"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/profile" \
  --dump-dom "file://$WORK/plan.html" > "$WORK/dom.html" 2>/dev/null
t4=$(now)
printf 'chromium load+script+dump: %.2fs (browser start included)\n' "$(echo "$t4 - $t3" | bc)"
echo "rows in the DOM:  $(grep -o 'class="inst ' "$WORK/dom.html" | wc -l) (groups open only when small; the rest on demand)"
