#!/usr/bin/env bash
# Install the real observability backends the integration tests (tests/integration) talk to:
#   * Prometheus, from the distribution (apt), on PATH as `prometheus`;
#   * Arize Phoenix, in its own virtual environment (its many dependencies would otherwise
#     fight with the test environment's), at $TOKENTRACE_PHOENIX_VENV or .ci-work/phoenix-venv.
# Idempotent: each part is skipped when already installed, so a warm CI cache costs seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
phoenix_venv="${TOKENTRACE_PHOENIX_VENV:-$root/.ci-work/phoenix-venv}"
python="${PYTHON:-python3}"

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if command -v prometheus >/dev/null 2>&1; then
    echo "prometheus: already installed ($(prometheus --version 2>&1 | head -1))"
else
    echo "prometheus: installing with apt-get"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
    # The package starts a system service on hosts with an init system; the tests run their own.
    sudo_if_needed systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

if [ -x "$phoenix_venv/bin/phoenix" ]; then
    echo "phoenix: already installed in $phoenix_venv"
else
    echo "phoenix: installing arize-phoenix into $phoenix_venv"
    "$python" -m venv "$phoenix_venv"
    "$phoenix_venv/bin/pip" install --quiet arize-phoenix
    "$phoenix_venv/bin/phoenix" --help >/dev/null  # fails loudly if the install is broken
fi
echo "backends ready: prometheus=$(command -v prometheus) phoenix=$phoenix_venv/bin/phoenix"
