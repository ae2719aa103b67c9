#!/usr/bin/env bash
# Runs every test: unit tests, and the integration tests against a moto server this
# script installs (pinned, in a venv under ~/.cache/thingform) and starts on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"

# A private emulator for this run, stopped on exit.
export THINGFORM_RUN_DIR="$(mktemp -d)"
trap 'scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$THINGFORM_RUN_DIR"' EXIT
scripts/emulator.sh install
# cargo-lambda (with zig) for the Rust Lambda builds.
PATH="$(scripts/cargo-lambda.sh):$PATH"
export PATH
THINGFORM_TEST_ENDPOINT="$(scripts/emulator.sh start)"
export THINGFORM_TEST_ENDPOINT
echo "emulator: $THINGFORM_TEST_ENDPOINT" >&2

cargo test --workspace "$@"
