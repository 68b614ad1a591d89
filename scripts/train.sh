#!/usr/bin/env bash
# Train the Rasa model when its inputs changed (a hash of them is kept beside the model).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
model=models/yishi.tar.gz
inputs=(bot/config.yml bot/domain.yml nlu_data build/rasa build/jieba rasa_ext/nlu.py rasa_ext/neighbours.py rasa_ext/ensemble.py assistant/batching.py
        assistant/neighbours.py assistant/ensemble.py chattext/__init__.py)
hash=$(find "${inputs[@]}" -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) -print0 | sort -z \
       | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ -f "$model" ] && [ "$(cat models/yishi.inputs 2>/dev/null)" = "$hash" ]; then
  echo "==> model is up to date ($model)"
  exit 0
fi
echo "==> training the Rasa model (about 2-3 minutes)"
start=$(date +%s)
# --force: Rasa's own cache (.rasa/cache) knows the components' settings and data, not their code; a changed
# tokenizer (rasa_ext/nlu.py, chattext) once trained in 14 s from outputs the old code had cached
.venv/bin/rasa train --force --config bot/config.yml --domain build/rasa/domain --data nlu_data build/rasa/data \
  --out models --fixed-model-name yishi --quiet > build/train.log 2>&1 || { tail -40 build/train.log; exit 1; }
echo "$hash" > models/yishi.inputs
echo "==> trained in $(( $(date +%s) - start )) s: $model"
