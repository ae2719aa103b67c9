#!/usr/bin/env bash
# Local AWS emulator for thingform: the moto server, pinned, in its own venv.
#
#   scripts/emulator.sh install        install moto into the venv (idempotent)
#   scripts/emulator.sh start          start it on a free 127.0.0.1 port; prints the endpoint
#   scripts/emulator.sh stop           stop the server started by `start`
#   eval "$(scripts/emulator.sh env)"  install + start if needed, export AWS_* for it
#
# Nothing here contacts AWS: the server listens on 127.0.0.1 only.
set -euo pipefail

MOTO_VERSION="5.2.5"
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${THINGFORM_CACHE:-$HOME/.cache/thingform}"
VENV="$CACHE/moto-venv"
RUN="${THINGFORM_RUN_DIR:-$CACHE/run}"
PYTHON="${THINGFORM_PYTHON:-python3}"

install() {
  if [[ -x "$VENV/bin/moto_server" && "$(cat "$VENV/.moto-version" 2>/dev/null)" == "$MOTO_VERSION" ]]; then
    return 0
  fi
  mkdir -p "$CACHE"
  echo "installing moto[server]==$MOTO_VERSION into $VENV" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  echo "$MOTO_VERSION" > "$VENV/.moto-version"
}

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

running_endpoint() {
  local pidf="$RUN/moto.pid" portf="$RUN/moto.port"
  if [[ -f "$pidf" && -f "$portf" ]] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    echo "http://127.0.0.1:$(cat "$portf")"
    return 0
  fi
  return 1
}

start() {
  install
  mkdir -p "$RUN"
  if running_endpoint >/dev/null; then
    running_endpoint
    return 0
  fi
  local port
  port="${MOTO_PORT:-$(free_port)}"
  # One request at a time (moto's backends are not thread-safe; see moto_server_serial.py).
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_PORT="$port" nohup "$VENV/bin/python" \
    "$HERE/moto_server_serial.py" -H 127.0.0.1 -p "$port" >"$RUN/moto.log" 2>&1 &
  echo $! > "$RUN/moto.pid"
  echo "$port" > "$RUN/moto.port"
  for _ in $(seq 1 100); do
    if "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "moto did not start; see $RUN/moto.log" >&2
  tail -20 "$RUN/moto.log" >&2 || true
  return 1
}

stop() {
  if [[ -f "$RUN/moto.pid" ]]; then
    kill "$(cat "$RUN/moto.pid")" 2>/dev/null || true
    rm -f "$RUN/moto.pid" "$RUN/moto.port"
  fi
}

env_exports() {
  local ep
  ep="$(start)"
  cat <<EOT
export AWS_ENDPOINT_URL=$ep
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=\${AWS_REGION:-eu-west-1}
export AWS_EC2_METADATA_DISABLED=true
EOT
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) env_exports ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
