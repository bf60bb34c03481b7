#!/usr/bin/env bash
# A venv with tokentrace's `instrument` extra (opentelemetry-distro + opentelemetry-instrumentation,
# the `opentelemetry-instrument` command) for tests/core/test_opentelemetry_instrument.py; idempotent.
#
# Why a venv of its own: the distro configures an SDK for every program run under
# `opentelemetry-instrument`, which would change other tests that use that command in the main
# venv. The venv sees the main venv's packages through a .pth file (same SDKs, same tokentrace)
# and adds only the extra, at the main venv's OpenTelemetry release.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi
MAIN_PY="${MAIN_PY:-$PWD/.venv/bin/python}"
[ -x "$MAIN_PY" ] || MAIN_PY=/work/main/.venv/bin/python
VENV=.ci-work/otel-instrument-venv
MARKER="$VENV/.installed-v2"
if [ -f "$MARKER" ]; then
    echo "otel-instrument venv: already installed"
    exit 0
fi
mkdir -p .ci-work
rm -rf "$VENV"
"$MAIN_PY" -m venv "$VENV"
MAIN_SITE=$("$MAIN_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
VENV_SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# addsitedir, not a bare path: the main venv's own .pth files (the editable install of
# tokentrace among them) must be processed too, or tokentrace's entry point fails to load.
echo "import site; site.addsitedir('$MAIN_SITE')" > "$VENV_SITE/zz-main-venv.pth"
OTEL_CONTRIB=$("$MAIN_PY" -c 'from importlib.metadata import version; print(version("opentelemetry-semantic-conventions"))')
if "$VENV/bin/python" -m pip install -q "opentelemetry-distro==$OTEL_CONTRIB" "opentelemetry-instrumentation==$OTEL_CONTRIB"; then
    touch "$MARKER"
    echo "otel-instrument venv: ready ($VENV)"
else
    rm -rf "$VENV"
    echo "SKIPPING the opentelemetry-instrument test (tests/core): the otel-instrument venv is missing; run .ci/install-otel-instrument.sh (needs PyPI)" >&2
    exit 1
fi
