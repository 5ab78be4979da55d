#!/usr/bin/env bash
# Make sure Debian's chromium and chromium-driver are installed: the browser tests (pytest
# marker e2e) drive them. Installs them with apt-get when missing (as root, or through sudo);
# says clearly what to do when that is not possible.
set -euo pipefail

CHROMIUM=${CHROMIUM_BINARY:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER_BINARY:-/usr/bin/chromedriver}

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "error: the browser tests need Debian's chromium and chromium-driver; install them with" >&2
  echo "       sudo apt-get install chromium chromium-driver" >&2
  exit 1
fi

echo "installing chromium and chromium-driver for the browser tests (apt-get)…"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null
fi
"$CHROMIUM" --version
