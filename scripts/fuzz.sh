#!/usr/bin/env bash
# Fuzzes the HCL loader, the expression evaluator and the state reader (proptest, stable
# Rust; tests/offline/fuzz.rs) for SECONDS per target (default 60), and prints the cases
# run. A panicking input fails the run and is printed, shrunk. CI runs 5 s per target.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export THINGFORM_CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$THINGFORM_CACHE/target}"
export THINGFORM_FUZZ_SECONDS="${1:-60}"
cargo test --test offline fuzz:: -- --nocapture --test-threads 1 2>&1 |
  grep -oE "fuzz [^:]*: [0-9]+ cases, no panic|panicked.*|minimal failing input.*|test result.*"
