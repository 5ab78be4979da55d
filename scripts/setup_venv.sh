#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock.
#
# Rasa 3.6 supports Python 3.8–3.10 only, so the venv is built from a Python 3.10
# found (in this order) in $PYTHON, on PATH as python3.10, or among pyenv's versions.
# The venv is rebuilt only when the lock file's hash differs from the one recorded
# at the last successful install (.venv/.lock-sha256), so repeated calls are cheap.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
LOCK=requirements.lock
STAMP="$VENV/.lock-sha256"

lock_hash() { sha256sum "$LOCK" | cut -d' ' -f1; }

is_python310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

find_python310() {
  local candidate
  for candidate in "${PYTHON:-}" "$(command -v python3.10 || true)"; do
    if [ -n "$candidate" ] && is_python310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  local pyenv_root
  pyenv_root=$( (command -v pyenv >/dev/null && pyenv root) || echo "$HOME/.pyenv")
  for candidate in "$pyenv_root"/versions/3.10.*/bin/python3.10; do
    if [ -x "$candidate" ] && is_python310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_hash)" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

if ! python310=$(find_python310); then
  cat >&2 <<'MSG'
error: Python 3.10 is required (Rasa Open Source 3.6 supports Python 3.8–3.10 only) and none was found.
Looked at: $PYTHON, python3.10 on PATH, and $(pyenv root)/versions/3.10.*.
Install it, e.g. `pyenv install 3.10` or your distribution's python3.10 package, or set PYTHON=/path/to/python3.10.
MSG
  exit 1
fi

echo "setup: building $VENV from $LOCK with $python310"
if [ -x "$VENV/bin/python" ] && ! is_python310 "$VENV/bin/python"; then
  echo "setup: existing $VENV is not Python 3.10, recreating it"
  rm -rf "$VENV"
fi
[ -x "$VENV/bin/python" ] || "$python310" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.2"
# --no-deps: the lock already lists every package; install exactly that set.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$LOCK"
"$VENV/bin/python" -m pip check
lock_hash > "$STAMP"
echo "setup: $VENV is ready"
