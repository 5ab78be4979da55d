#!/usr/bin/env bash
# Make sure Debian's chromium and chromium-driver are installed: the browser tests (pytest
# marker e2e) drive them. Installs them with apt-get when missing.
set -euo pipefail

CHROMIUM=${CHROMIUM_BINARY:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER_BINARY:-/usr/bin/chromedriver}

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
  exit 0
fi
bash "$(dirname "$0")/apt_install.sh" "the browser tests" chromium chromium-driver
"$CHROMIUM" --version
