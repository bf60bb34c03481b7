#!/usr/bin/env bash
# Installs redis-server (Debian package) for the shared-budget tests; idempotent.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
    echo "redis-server: already installed"
    exit 0
fi
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
sudo_if_needed apt-get update -qq
sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
# The package may start a system service; the tests start their own on a free port.
sudo_if_needed systemctl disable --now redis-server >/dev/null 2>&1 || true
echo "redis-server: installed"
