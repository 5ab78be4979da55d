#!/usr/bin/env bash
# Make sure Debian's nginx is installed: `make run-cluster`, the fault tests and the load
# benchmark put it in front of the instances. Installs nginx-light with apt-get when missing.
set -euo pipefail

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
bash "$(dirname "$0")/apt_install.sh" "the multi-instance stack" nginx-light
# Debian's package starts a system nginx on port 80; the cluster runs its own.
(command -v systemctl >/dev/null && systemctl disable --now nginx >/dev/null 2>&1) || pkill -x nginx 2>/dev/null || true
