#!/usr/bin/env bash
# Install the real observability backends the integration tests (tests/integration) talk to:
#   * Prometheus (Debian package, ~19 MB download): root installs it with apt-get; without root
#     it is unpacked into .ci-work/debroot and run from .ci-work/bin (see .ci/lib.sh);
#   * Arize Phoenix (~850 MB once installed), in its own virtual environment (its many
#     dependencies would otherwise fight with the test environment's), at
#     $TOKENTRACE_PHOENIX_VENV or .ci-work/phoenix-venv. No root needed.
# Idempotent: each part is skipped when already installed, so a warm CI cache costs seconds.
# A part that cannot be installed prints one "SKIPPING ..." line and makes the script fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi
phoenix_venv="${TOKENTRACE_PHOENIX_VENV:-$ci_work/phoenix-venv}"
python="${PYTHON:-python3}"
status=0

ensure_deb_binary prometheus "the Prometheus integration tests (tests/integration: metrics, dashboard, alert rules)" prometheus || status=1

if [ -n "${TOKENTRACE_PHOENIX:-}" ]; then
    if [ -x "$TOKENTRACE_PHOENIX" ]; then
        echo "phoenix: using TOKENTRACE_PHOENIX=$TOKENTRACE_PHOENIX"
    else
        skip_line "the Phoenix integration tests (tests/integration: traces)" "Arize Phoenix" \
            "TOKENTRACE_PHOENIX=$TOKENTRACE_PHOENIX is not an executable; unset it to install Phoenix into $phoenix_venv"
        status=1
    fi
elif [ -x "$phoenix_venv/bin/phoenix" ]; then
    echo "phoenix: already installed ($phoenix_venv/bin/phoenix)"
else
    echo "phoenix: installing arize-phoenix into $phoenix_venv (about 850 MB)"
    if "$python" -m venv "$phoenix_venv" && "$phoenix_venv/bin/pip" install --quiet arize-phoenix \
        && "$phoenix_venv/bin/phoenix" --help >/dev/null; then
        echo "phoenix: ready ($phoenix_venv/bin/phoenix)"
    else
        rm -rf "$phoenix_venv"  # a half-made venv would pass the check above next time
        skip_line "the Phoenix integration tests (tests/integration: traces)" "Arize Phoenix" \
            "run: $python -m venv $phoenix_venv && $phoenix_venv/bin/pip install arize-phoenix (or set TOKENTRACE_PHOENIX=/path/to/phoenix)"
        status=1
    fi
fi
exit $status
