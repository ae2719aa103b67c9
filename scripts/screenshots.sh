#!/usr/bin/env bash
# The README's pictures, taken from the real program against the local emulator: the
# terminal during `apply` of stacks/campus (on a pseudo-terminal, ANSI colours turned
# into HTML) and the HTML view of a plan that changes it (headless Chromium). Writes
# docs/terminal.png and docs/plan-view.png; the emulator it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
export THINGFORM_RUN_DIR="$(mktemp -d)"
WORK="$(mktemp -d)"
trap 'scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$THINGFORM_RUN_DIR" "$WORK"' EXIT
CHROMIUM="${THINGFORM_CHROMIUM:-$(command -v chromium)}"
cargo build --quiet --bin thingform
TF="$CARGO_TARGET_DIR/debug/thingform"
PATH="$(scripts/cargo-lambda.sh):$PATH"
export PATH
eval "$(scripts/emulator.sh env)"
STACK=stacks/campus
ST=(-state "$WORK/state.json")
shot() { "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/profile" \
  --window-size="$3" --screenshot="$2" "$1" 2>/dev/null; }

# 1. apply on a terminal (a pty from util-linux `script`): colours, counters, build step.
if ! COLUMNS=150 script -qec "'$TF' apply -auto-approve -state '$WORK/state.json' '$STACK'" /dev/null > "$WORK/apply.ansi"; then
  tail -30 "$WORK/apply.ansi" >&2
  exit 1
fi
python3 - "$WORK/apply.ansi" "$WORK/terminal.html" <<'PY'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read().replace("\r", "")
lines = text.split("\n")
# The plan is long: show its end, the build step, some progress and the summary.
find = lambda pat: next(i for i, l in enumerate(lines) if pat in l)
start, built = find("==> Build"), find("==> Built")
slow, done = find("Slowest operations"), find("Apply complete!")
body = (lines[start - 12:start + 3] + ["   ..."] + lines[built - 2:built + 3] + ["   ..."]
        + lines[slow - 4:done + 1])
colors = {"1": "font-weight:bold", "2": "color:#8b949e", "31": "color:#ff7b72", "32": "color:#3fb950",
          "33": "color:#d29922", "35": "color:#d2a8ff", "36": "color:#39c5cf"}
def conv(line):
    out, open_ = [], 0
    for part in re.split(r"(\x1b\[[0-9;]*m)", line):
        m = re.match(r"\x1b\[([0-9;]*)m", part)
        if not m:
            out.append(html.escape(part)); continue
        codes = [c for c in m.group(1).split(";") if c]
        if codes in ([], ["0"]):
            out.append("</span>" * open_); open_ = 0
        else:
            out.append('<span style="%s">' % ";".join(colors.get(c, "") for c in codes)); open_ += 1
    return "".join(out) + "</span>" * open_
page = ('<html><body style="margin:0;background:#0d1117"><pre style="margin:0;padding:14px;color:#c9d1d9;'
        'font:13px/1.35 DejaVu Sans Mono,monospace">$ thingform apply -auto-approve stacks/campus\n'
        + "\n".join(conv(l) for l in body) + "</pre></body></html>")
open(sys.argv[2], "w").write(page)
PY
shot "file://$WORK/terminal.html" docs/terminal.png 1100,650

# 2. a plan that changes the fleet: one node retired, one added, thresholds changed.
cat > "$WORK/change.tfvars" <<'TFV'
heat_alert_c         = 40
reporting_interval_s = 30
nodes = {
  "node-01" = { building = "library", location = "reading-room" }
  "node-02" = { building = "library", location = "stacks" }
  "node-03" = { building = "science", location = "lab-1" }
  "node-13" = { building = "gym", location = "hall" }
}
TFV
"$TF" plan "${ST[@]}" -var-file="$WORK/change.tfvars" -out "$WORK/change.tfplan" "$STACK" > /dev/null
"$TF" plan "${ST[@]}" -var-file="$WORK/change.tfvars" -compact "$STACK" > docs/plan-compact.txt || true
"$TF" show -html "$WORK/change.tfplan" > "$WORK/plan.html"
shot "file://$WORK/plan.html#show=aws_iot_thing_shadow.node%5B%22node-01%22%5D" docs/plan-view.png 1500,1000
"$TF" destroy "${ST[@]}" -auto-approve "$STACK" > /dev/null
echo "wrote docs/terminal.png, docs/plan-view.png, docs/plan-compact.txt"
