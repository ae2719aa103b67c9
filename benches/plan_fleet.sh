#!/usr/bin/env bash
# Benchmark: how long a no-op plan of a device fleet takes against the local emulator
# (refresh of every Thing + diff), with the default parallelism and with -parallelism=1,
# plus validate of the campus stack. Prints medians of RUNS runs and peak memory.
# The full fleet benchmark (certificates, attachments, latency proxy, floor) is
# benches/fleet.sh; this one stays as the quick Things-only check.
#
#   benches/plan_fleet.sh [THINGS] [RUNS]      (defaults: 1000 things, 5 runs)
#
# Figures, not assertions: the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
RUNS="${2:-5}"
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
# BENCH_PROFILE=release for optimised figures (a cold release build takes ~13 minutes);
# THINGFORM_BIN=path measures that binary instead (no build).
if [[ -n "${THINGFORM_BIN:-}" ]]; then
  TF="$THINGFORM_BIN"
  echo "thingform: $TF"
else
  PROFILE="${BENCH_PROFILE:-debug}"
  if [[ "$PROFILE" == "release" ]]; then cargo build --quiet --release --bin thingform; else cargo build --quiet --bin thingform; fi
  TF="$CARGO_TARGET_DIR/$PROFILE/thingform"
  echo "thingform $PROFILE build"
fi
export THINGFORM_RUN_DIR="$(mktemp -d)"
trap 'scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$THINGFORM_RUN_DIR"' EXIT
eval "$(scripts/emulator.sh env)"

STACK="$THINGFORM_RUN_DIR/fleet"
mkdir -p "$STACK"
cat > "$STACK/main.tf" <<HCL
variable "n" {
  type    = number
  default = $N
}
resource "aws_iot_thing" "node" {
  count = var.n
  name  = "bench-node-\${count.index}"
  attributes = {
    building = "b\${count.index % 7}"
  }
}
HCL

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.3f}")' "$@"; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }

echo "apply of $N things:              $(timed "$TF" apply -auto-approve -parallelism=10 "$STACK") s (one run)"
p10=(); p1=(); val=()
for _ in $(seq 1 "$RUNS"); do
  p10+=("$(timed "$TF" plan -detailed-exitcode "$STACK")")
  p1+=("$(timed "$TF" plan -parallelism=1 "$STACK")")
  val+=("$(timed "$TF" validate stacks/campus)")
done
m10=$(median "${p10[@]}"); m1=$(median "${p1[@]}")
echo "no-op plan, $N things, -parallelism=10: median $m10 s over $RUNS runs"
echo "no-op plan, $N things, -parallelism=1:  median $m1 s over $RUNS runs"
echo "ratio parallelism 1 / 10:          $(python3 -c "print(f'{$m1/$m10:.2f}')")"
echo "validate stacks/campus:            median $(median "${val[@]}") s over $RUNS runs"
if [[ -x /usr/bin/time ]]; then
  /usr/bin/time -v "$TF" plan "$STACK" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print "peak memory of a plan:             " $2/1024 " MiB"}'
fi
echo "(moto answers one request at a time, ~4.5 ms each: the emulator, not thingform, bounds these figures)"
"$TF" destroy -auto-approve "$STACK" >/dev/null 2>&1
