#!/usr/bin/env bash
# Debian's Chromium and CJK fonts for the browser tests (test tools cannot download browsers here), npm (the browser
# tests install rasa-webchat and axe-core from the npm registry, tests/e2e/npm.py), nginx (tests/deploy check the
# shipped site with `nginx -t`), and HAProxy, PostgreSQL and Redis (tests/e2e/test_city.py starts private instances on free
# loopback ports in a temporary folder, ops/services.py). No system service is started.
set -euo pipefail
PACKAGES="chromium chromium-driver fonts-noto-cjk nginx haproxy postgresql redis-server"
if dpkg -s $PACKAGES >/dev/null 2>&1 && command -v npm >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "The tests need: sudo apt-get install $PACKAGES npm" >&2
  exit 1
fi
echo "==> installing $PACKAGES and npm (once)"
apt-get update -qq
# no package may start a system service (nginx, HAProxy, PostgreSQL, Redis): policy-rc.d says no while installing
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES > /dev/null
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm > /dev/null
