#!/usr/bin/env bash
# A venv with the real OpenTelemetry HTTP instrumentations (httpx, requests, urllib3, botocore,
# aiohttp-client) for
# the baggage tests in tests/attribution/test_transport_baggage.py; idempotent (see private_venv
# in .ci/lib.sh).
#
# Why a venv of its own: these packages register `opentelemetry_instrumentor` entry points, so in
# the main venv `opentelemetry-instrument` would switch them on in unrelated tests, and they pin
# an opentelemetry-api that differs from the main venv's. The venv sees the main venv's packages
# through a .pth file (same SDKs, same tokentrace), and only adds the instrumentations on top.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
    local release pip=("$1/bin/python" -m pip install -q)
    see_main_venv "$1" && release="$(main_otel_release)" || return 1
    # Same release line as the main venv's opentelemetry-sdk, so nothing of the main venv is shadowed
    # (the urllib3 one skipped that release: its previous one, without its pins, works against it).
    "${pip[@]}" "opentelemetry-instrumentation-httpx==$release" \
        "opentelemetry-instrumentation-requests==$release" \
        "opentelemetry-instrumentation-botocore==$release" || return 1
    "${pip[@]}" --no-deps "opentelemetry-instrumentation-urllib3==$release" 2>/dev/null \
        || "${pip[@]}" --no-deps "opentelemetry-instrumentation-urllib3<=$release" || return 1
    # aiohttp-client, the same way: its own pins would move the shared instrumentation packages.
    "${pip[@]}" --no-deps "opentelemetry-instrumentation-aiohttp-client==$release" 2>/dev/null \
        || "${pip[@]}" --no-deps "opentelemetry-instrumentation-aiohttp-client<=$release"
}

private_venv httpinstr 4 install "the transport baggage tests (tests/attribution/test_transport_baggage.py)" \
    'import opentelemetry.instrumentation.aiohttp_client, opentelemetry.instrumentation.httpx, opentelemetry.instrumentation.urllib3'
