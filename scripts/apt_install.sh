#!/usr/bin/env bash
# apt_install.sh WHAT PACKAGE...: install Debian packages (as root, or through sudo), saying
# clearly what to run when that is not possible. WHAT says what needs them.
set -euo pipefail
what=$1; shift

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "error: $what needs Debian's $*; install them with" >&2
  echo "       sudo apt-get install $*" >&2
  exit 1
fi

echo "installing $* for $what (apt-get)…"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q "$@" >/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" apt-get install -y -q "$@" >/dev/null
fi
