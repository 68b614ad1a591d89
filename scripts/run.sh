#!/usr/bin/env bash
# Start the action server, the Rasa servers and the web app under supervisord; warm them up; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a

export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
export YISHI_RASA_PORT="${YISHI_RASA_PORT:-5005}" YISHI_ACTIONS_PORT="${YISHI_ACTIONS_PORT:-5055}"
export YISHI_WEB_HOST="${YISHI_WEB_HOST:-127.0.0.1}" YISHI_WEB_PORT="${YISHI_WEB_PORT:-8000}"
# Several Rasa servers share the load (one core each); the web app pins every conversation to one.
YISHI_RASA_SERVERS="${YISHI_RASA_SERVERS:-2}"
rasa_ports=()
for i in $(seq 0 $(( YISHI_RASA_SERVERS - 1 ))); do rasa_ports+=($(( YISHI_RASA_PORT + i ))); done
urls=(); for port in "${rasa_ports[@]}"; do urls+=("http://127.0.0.1:$port"); done
export YISHI_RASA_URLS="${YISHI_RASA_URLS:-$(IFS=,; echo "${urls[*]}")}"
export YISHI_ACTION_URL="${YISHI_ACTION_URL:-http://127.0.0.1:$YISHI_ACTIONS_PORT/webhook}"
export YISHI_TRACKER_DB="${YISHI_TRACKER_DB:-build/rasa.db}"
export YISHI_LOG_DIR="${YISHI_LOG_DIR:-build/logs}"
# Rasa's HTTP API (model parse for the warm-up and the staff console) takes a JWT signed with this secret.
export YISHI_RASA_JWT_SECRET="${YISHI_RASA_JWT_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')}"
mkdir -p "$YISHI_LOG_DIR" "$(dirname "$YISHI_TRACKER_DB")"
# The session cookie's key: made once, then shared by every gunicorn worker.
key_file="${YISHI_SECRET_KEY_FILE:-build/secret_key}"
[ -n "${YISHI_SECRET_KEY:-}" ] || [ -s "$key_file" ] \
  || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > "$key_file")

export YISHI_RASA_SERVERS
export YISHI_LOG_DIR="$(cd "$YISHI_LOG_DIR" && pwd)"

# supervisord (deploy/supervisord.conf) runs every component and restarts one that dies, alone.
stop() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  [ -n "${supervisor:-}" ] && kill -TERM "$supervisor" 2>/dev/null && wait "$supervisor" 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_for() {  # name url seconds
  for _ in $(seq 1 $(( $3 * 5 ))); do
    curl -fsS "$2" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "!! $1 did not start; see $YISHI_LOG_DIR" >&2
  exit 1
}

echo "==> starting the action server (127.0.0.1:$YISHI_ACTIONS_PORT), $YISHI_RASA_SERVERS Rasa servers (about 20 s)" \
     "and the web app ($YISHI_WEB_HOST:$YISHI_WEB_PORT) under supervisord; logs in $YISHI_LOG_DIR"
.venv/bin/supervisord -c deploy/supervisord.conf &
supervisor=$!

wait_for "the action server" "http://127.0.0.1:$YISHI_ACTIONS_PORT/health" 60
IFS=, read -ra rasa_urls <<< "$YISHI_RASA_URLS"
for url in "${rasa_urls[@]}"; do wait_for "the Rasa server at $url" "$url/" 180; done
wait_for "the web app" "http://$YISHI_WEB_HOST:$YISHI_WEB_PORT/healthz" 30
echo "==> warming up (jieba, the model, the catalogue) so the first citizen is not the slow one"
.venv/bin/python -m ops.warmup

echo
echo "Yishi is running: http://$YISHI_WEB_HOST:$YISHI_WEB_PORT/   (kiosk: /kiosk; Ctrl-C stops it;" \
     ".venv/bin/supervisorctl -s unix://$YISHI_LOG_DIR/supervisor.sock status shows each component)"
wait "$supervisor"
