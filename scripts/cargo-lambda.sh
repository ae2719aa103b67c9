#!/usr/bin/env bash
# Installs cargo-lambda (and the zig toolchain it cross-compiles with) from PyPI into a
# venv under ~/.cache/thingform, idempotently, and prints the venv's bin directory.
# Add it to PATH so thingform's `cargo_lambda {}` builds find `cargo-lambda` and `zig`.
set -euo pipefail
CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
VENV="$CACHE/lambda-venv"
VERSION="${CARGO_LAMBDA_VERSION:-1.9.2}"
if [[ ! -x "$VENV/bin/cargo-lambda" || "$(cat "$VENV/.version" 2>/dev/null)" != "$VERSION" ]]; then
  echo "installing cargo-lambda==$VERSION into $VENV" >&2
  "${THINGFORM_PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$VERSION" >&2
  echo "$VERSION" > "$VENV/.version"
fi
echo "$VENV/bin"
