#!/usr/bin/env bash
# A venv with the real OpenTelemetry HTTP instrumentations (httpx, requests, urllib3, botocore) for
# the baggage tests in tests/attribution/test_transport_baggage.py; idempotent.
#
# Why a venv of its own: these packages register `opentelemetry_instrumentor` entry points, so in
# the main venv `opentelemetry-instrument` would switch them on in unrelated tests, and they pin
# an opentelemetry-api that differs from the main venv's. The venv sees the main venv's packages
# through a .pth file (same SDKs, same tokentrace), and only adds the instrumentations on top.
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN_PY="${MAIN_PY:-$PWD/.venv/bin/python}"
[ -x "$MAIN_PY" ] || MAIN_PY=/work/main/.venv/bin/python
VENV=.ci-work/httpinstr-venv
MARKER="$VENV/.installed-v3"
if [ -f "$MARKER" ]; then
    echo "httpinstr venv: already installed"
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
# Same release line as the main venv's opentelemetry-sdk, so nothing of the main venv is shadowed
# (the urllib3 one skipped that release: its previous one, without its pins, works against it).
OTEL_CONTRIB=$("$MAIN_PY" -c 'from importlib.metadata import version; print(version("opentelemetry-semantic-conventions"))')
"$VENV/bin/python" -m pip install -q \
    "opentelemetry-instrumentation-httpx==$OTEL_CONTRIB" \
    "opentelemetry-instrumentation-requests==$OTEL_CONTRIB" \
    "opentelemetry-instrumentation-botocore==$OTEL_CONTRIB"
"$VENV/bin/python" -m pip install -q --no-deps \
    "opentelemetry-instrumentation-urllib3==$OTEL_CONTRIB" 2>/dev/null \
    || "$VENV/bin/python" -m pip install -q --no-deps "opentelemetry-instrumentation-urllib3<=$OTEL_CONTRIB"
touch "$MARKER"
echo "httpinstr venv: installed"
