#!/usr/bin/env bash
# Runs every test: unit tests, the offline tests (tests/offline: the binary with no
# emulator, failing if it contacts AWS), the integration tests against a moto server this
# script installs (pinned, in a venv under ~/.cache/thingform) and starts on 127.0.0.1
# (tests/integration; cargo-lambda is installed too, and its tests fail without it; Debian's
# chromium too, if missing, for the HTML view's browser tests), then the
# LocalStack lane (S3, SNS, IAM, CloudWatch, Logs and stacks/campus-lite against
# LocalStack Community, offline and without Docker) where a Python >= 3.13 exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"

# Private emulators for this run, stopped on exit.
export THINGFORM_RUN_DIR="$(mktemp -d)"
trap 'scripts/emulator.sh stop >/dev/null 2>&1 || true; scripts/localstack.sh stop >/dev/null 2>&1 || true; rm -rf "$THINGFORM_RUN_DIR"' EXIT
scripts/emulator.sh install
# Headless Chromium for the HTML view's browser tests (tests/offline/view.rs): Debian's
# package, installed only when missing. Once it is there, the tests must find it.
if ! command -v chromium >/dev/null 2>&1 && [[ -z "${THINGFORM_CHROMIUM:-}" ]]; then
  SUDO=""
  if [[ "$(id -u)" != "0" ]] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (apt-get) for the browser tests" >&2
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; } >&2 || true
  fi
fi
if command -v chromium >/dev/null 2>&1 || [[ -n "${THINGFORM_CHROMIUM:-}" ]]; then
  export THINGFORM_REQUIRE_BROWSER=1
else
  echo "!!!!!!!! chromium could not be installed: the browser tests of the HTML view will be SKIPPED !!!!!!!!" >&2
fi
# cargo-lambda (with zig) for the Rust Lambda builds.
PATH="$(scripts/cargo-lambda.sh):$PATH"
export PATH
THINGFORM_TEST_ENDPOINT="$(scripts/emulator.sh start)"
export THINGFORM_TEST_ENDPOINT
echo "== moto lane: $THINGFORM_TEST_ENDPOINT" >&2
cargo test --workspace "$@"

if [[ "${THINGFORM_SKIP_LOCALSTACK:-0}" == "1" ]]; then
  echo "== LocalStack lane SKIPPED: THINGFORM_SKIP_LOCALSTACK=1" >&2
elif ! scripts/localstack.sh python >/dev/null 2>&1; then
  echo "== LocalStack lane SKIPPED: LocalStack Community 2026.3 needs Python >= 3.13 and none was found" >&2
else
  LOCALSTACK="$(scripts/localstack.sh start)"
  echo "== LocalStack lane: $LOCALSTACK (Lambda and IoT/DynamoDB types are checked in the moto lane only)" >&2
  THINGFORM_TEST_ENDPOINT="$LOCALSTACK" THINGFORM_TEST_LANE=localstack \
    cargo test --workspace --test integration "$@" -- \
    s3:: sns:: compute::iam compute::cloudwatch compute::creating_an_alarm campus_lite::
fi
