#!/usr/bin/env bash
# Start Yishi's servers in the foreground; Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a

HOST="${YISHI_WEB_HOST:-127.0.0.1}"
PORT="${YISHI_WEB_PORT:-8000}"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> starting the web app on $HOST:$PORT"
.venv/bin/gunicorn --bind "$HOST:$PORT" --workers "${YISHI_WEB_WORKERS:-2}" --access-logfile - \
  "web_widget:create_app()" &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo
echo "Yishi is running: http://$HOST:$PORT/api/bundles  (Ctrl-C stops it)"
wait -n "${pids[@]}"
