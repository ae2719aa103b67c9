#!/usr/bin/env bash
# Fleet benchmark (issue 8): thingform against the minimal AWS calls for the same fleet.
#
#   benches/fleet.sh [N ...]                  (default: 100 1000; 10000 works too)
#
# For each N it generates a stack of N devices (`count = var.n`: one aws_iot_policy and,
# per device, aws_iot_thing, aws_iot_certificate, aws_iot_thing_principal_attachment,
# aws_iot_policy_attachment: 4N+1 resources) and measures thingform through a loopback
# latency proxy in front of the moto emulator (benches/latency_proxy.py adds LATENCY_MS to
# every call, as an AWS round trip would, and counts the calls by operation):
# apply, no-op plan, plan after one attribute change, plan -refresh=false, destroy, each
# with the median seconds of RUNS runs, the API calls, peak RSS, the state size on disk
# (.thingform/) and the state bytes written (when the binary writes THINGFORM_STATS_FILE).
# Beside each: the floor (benches/floor.py: the same minimal calls straight through boto3,
# same proxy, same run) and the ratio. Then apply and no-op plan at -parallelism 1, 10, 50
# beside the floor at 1, 10, 50 threads. The emulator is reset between runs (and destroy
# is checked for leftovers first). Figures, not assertions: the machine is shared.
#
# Environment:
#   THINGFORM_BIN      the binary to measure; unset: cargo build --bin thingform with
#                      BENCH_PROFILE (default release) into CARGO_TARGET_DIR
#   LATENCY_MS=30      added per call (0: the raw emulator, the proxy only counts)
#   JITTER_MS=0        uniform +- jitter on it
#   RUNS=3             repetitions of the main table (medians)
#   PARALLELISM=10     thingform's -parallelism in the main table
#   FLOOR_CONCURRENCY  the floor's threads in the main table (default: PARALLELISM)
#   PAR_LEVELS="1 10 50"  the parallelism section; PAR_MAX_N=1000: only for N up to this;
#   PAR_RUNS=1         repetitions there
#   SHAPE=flat         or modules: the same fleet as one module instance per device
#   RESULTS_JSON       where the raw figures go (default: /tmp/thingform-fleet-<time>.json)
#   KEEP=1             keep the temp dir (stacks, logs, figures)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
if (($# == 0)); then set -- 100 1000; fi
for n in "$@"; do [[ "$n" =~ ^[0-9]+$ ]] || { echo "usage: $0 [N ...]" >&2; exit 2; }; done

export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
if [[ -z "${THINGFORM_BIN:-}" ]]; then
  PROFILE="${BENCH_PROFILE:-release}"
  echo "building thingform ($PROFILE) into $CARGO_TARGET_DIR" >&2
  if [[ "$PROFILE" == "release" ]]; then cargo build --quiet --release --bin thingform; else cargo build --quiet --bin thingform; fi
  THINGFORM_BIN="$CARGO_TARGET_DIR/$PROFILE/thingform"
  export THINGFORM_PROFILE="$PROFILE"
fi
[[ -x "$THINGFORM_BIN" ]] || { echo "no thingform binary at $THINGFORM_BIN" >&2; exit 1; }

export LATENCY_MS="${LATENCY_MS:-30}"
JITTER_MS="${JITTER_MS:-0}"
PY="${THINGFORM_PYTHON:-python3}"

export THINGFORM_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/thingform-fleet.XXXXXX")"
PROXY_PID=""
cleanup() {
  if [[ -n "$PROXY_PID" ]]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  "$ROOT/scripts/emulator.sh" stop >/dev/null 2>&1 || true
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept $THINGFORM_RUN_DIR" >&2; else rm -rf "$THINGFORM_RUN_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MOTO_URL="$(scripts/emulator.sh start)"
"$PY" benches/latency_proxy.py --upstream "$MOTO_URL" --port 0 --latency-ms "$LATENCY_MS" \
  --jitter-ms "$JITTER_MS" --port-file "$THINGFORM_RUN_DIR/proxy.port" 2>"$THINGFORM_RUN_DIR/proxy.log" &
PROXY_PID=$!
for _ in $(seq 1 100); do [[ -s "$THINGFORM_RUN_DIR/proxy.port" ]] && break; sleep 0.1; done
[[ -s "$THINGFORM_RUN_DIR/proxy.port" ]] || { cat "$THINGFORM_RUN_DIR/proxy.log" >&2; exit 1; }
PROXY_URL="http://127.0.0.1:$(cat "$THINGFORM_RUN_DIR/proxy.port")"

export AWS_ENDPOINT_URL="$PROXY_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION="${AWS_REGION:-eu-west-1}" AWS_EC2_METADATA_DISABLED=true
FLOOR_PY="$THINGFORM_CACHE/moto-venv/bin/python"
export MOTO_VERSION_STR="moto $("$FLOOR_PY" -c 'import moto; print(moto.__version__)')"

export RESULTS_JSON="${RESULTS_JSON:-${TMPDIR:-/tmp}/thingform-fleet-$(date +%Y%m%d-%H%M%S).json}"
"$PY" benches/fleet_run.py --tf "$THINGFORM_BIN" --proxy "$PROXY_URL" --moto "$MOTO_URL" \
  --floor-python "$FLOOR_PY" --dir "$THINGFORM_RUN_DIR/bench" "$@"
