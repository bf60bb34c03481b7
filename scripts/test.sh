#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (idempotent, fast when already there).
# Usage: ./scripts/test.sh [pytest arguments]
#
# No root needed. What it installs, all inside this checkout (see README, "Development"):
#   .venv/                  this package with its test extra (~700 MB, from PyPI)
#   .ci-work/phoenix-venv/  Arize Phoenix for the trace integration tests (~850 MB, from PyPI)
#   .ci-work/debroot/, bin/ Prometheus and redis-server from Debian packages (~21 MB download),
#                           only when they are not on PATH already; root installs them with apt-get
# TOKENTRACE_SKIP_INSTALL=1 installs nothing: it runs the suite with .venv (or $PYTHON when there
# is no .venv) as it is; tests whose backend is missing are skipped, one line per group.
# TOKENTRACE_REQUIRE_BACKENDS=1 (CI sets it) makes a backend that cannot be installed an error.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then
    echo "test.sh: TOKENTRACE_SKIP_INSTALL=1, installing nothing" >&2
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
    exec "$PYTHON" -m pytest "$@"
fi

if [ ! -x .venv/bin/python ]; then
    echo "test.sh: creating .venv and installing tokentrace[test] into it (set TOKENTRACE_SKIP_INSTALL=1 to skip installs)" >&2
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
missing=0
for installer in .ci/install-*.sh; do
    [ -f "$installer" ] || continue
    if ! bash "$installer"; then
        if [ "${TOKENTRACE_REQUIRE_BACKENDS:-}" = "1" ]; then
            echo "test.sh: $installer failed and TOKENTRACE_REQUIRE_BACKENDS=1: stopping" >&2
            exit 1
        fi
        missing=1
    fi
done
if [ "$missing" = "1" ]; then
    echo "test.sh: some backends are missing (SKIPPING lines above); the tests that need them will be skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
