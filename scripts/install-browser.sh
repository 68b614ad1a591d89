#!/usr/bin/env bash
# Debian's Chromium and CJK fonts for the browser tests (test tools cannot download browsers here), npm (the browser
# tests install rasa-webchat and axe-core from the npm registry, tests/e2e/npm.py) and nginx (tests/deploy check the
# shipped site with `nginx -t`; its service is never started).
set -euo pipefail
if dpkg -s chromium chromium-driver fonts-noto-cjk nginx >/dev/null 2>&1 && command -v npm >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "The browser tests need: sudo apt-get install chromium chromium-driver fonts-noto-cjk nginx npm" >&2
  exit 1
fi
echo "==> installing chromium, chromium-driver, fonts-noto-cjk, nginx and npm (once)"
apt-get update -qq
# no package may start a system service (nginx's would listen on port 80): policy-rc.d says no while installing
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk nginx > /dev/null
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm > /dev/null
