#!/usr/bin/env bash
# Debian's Chromium and CJK fonts for the browser tests (test tools cannot download browsers here), and npm:
# the browser tests install rasa-webchat from the npm registry (tests/e2e/npm.py).
set -euo pipefail
if dpkg -s chromium chromium-driver fonts-noto-cjk >/dev/null 2>&1 && command -v npm >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "The browser tests need: sudo apt-get install chromium chromium-driver fonts-noto-cjk npm" >&2
  exit 1
fi
echo "==> installing chromium, chromium-driver, fonts-noto-cjk and npm (once)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk > /dev/null
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm > /dev/null
