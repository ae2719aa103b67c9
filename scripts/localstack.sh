#!/usr/bin/env bash
# LocalStack Community without Docker (host mode), for the second test lane.
#
#   scripts/localstack.sh python       print a Python >= 3.13 to run it with, or fail
#   scripts/localstack.sh install      install localstack-core (pinned) into a venv
#   scripts/localstack.sh start        start it on a free 127.0.0.1 port; prints the endpoint
#   scripts/localstack.sh stop
#
# LocalStack Community serves S3, SNS, IAM, STS, CloudWatch, Logs and Lambda (create),
# not IoT (a paid feature) nor, offline, DynamoDB.
set -euo pipefail
CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
VENV="$CACHE/localstack-venv"
RUN="${THINGFORM_RUN_DIR:-$CACHE/run}"
VERSION="2026.3.0"

find_python() {
  # localstack-core 2026.3 uses warnings.deprecated: Python 3.13 or newer.
  for p in "${LOCALSTACK_PYTHON:-}" python3.13 python3.14 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 "$HOME"/.pyenv/versions/3.14*/bin/python3.14; do
    [[ -n "$p" ]] || continue
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      command -v "$p"
      return 0
    fi
  done
  return 1
}

install() {
  if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.version" 2>/dev/null)" == "$VERSION" ]]; then
    return 0
  fi
  local py
  py="$(find_python)" || { echo "no Python >= 3.13 found: LocalStack lane unavailable" >&2; return 1; }
  echo "installing localstack-core==$VERSION into $VENV with $py" >&2
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "localstack-core[runtime]==$VERSION" service-identity "cbor2<6" "pyopenssl>=25,<26" "cryptography>=45.0.7,<47" >&2
  echo "$VERSION" > "$VENV/.version"
}

start() {
  install
  mkdir -p "$RUN"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" DNS_ADDRESS=0 DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 SERVICES="s3,sns,iam,sts,cloudwatch,logs,lambda" LOCALSTACK_VOLUME_DIR="$RUN/localstack" \
    nohup "$VENV/bin/python" -m localstack.runtime.main >"$RUN/localstack.log" 2>&1 &
  echo $! > "$RUN/localstack.pid"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/_localstack/health" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 1
  done
  echo "LocalStack did not start; see $RUN/localstack.log" >&2
  tail -20 "$RUN/localstack.log" >&2 || true
  return 1
}

stop() {
  if [[ -f "$RUN/localstack.pid" ]]; then
    kill "$(cat "$RUN/localstack.pid")" 2>/dev/null || true
    rm -f "$RUN/localstack.pid"
  fi
}

case "${1:-}" in
  python) find_python ;;
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 python|install|start|stop" >&2; exit 2 ;;
esac
