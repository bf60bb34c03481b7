#!/usr/bin/env bash
# A venv with tokentrace's `instrument` extra (opentelemetry-distro + opentelemetry-instrumentation,
# the `opentelemetry-instrument` command) for tests/core/test_opentelemetry_instrument.py;
# idempotent (see private_venv in .ci/lib.sh).
#
# Why a venv of its own: the distro configures an SDK for every program run under
# `opentelemetry-instrument`, which would change other tests that use that command in the main
# venv. The venv sees the main venv's packages through a .pth file (same SDKs, same tokentrace)
# and adds only the extra, at the main venv's OpenTelemetry release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi

install() {
    local release
    see_main_venv "$1" && release="$(main_otel_release)" \
        && "$1/bin/python" -m pip install -q "opentelemetry-distro==$release" "opentelemetry-instrumentation==$release"
}

private_venv otel-instrument 2 install "the opentelemetry-instrument test (tests/core/test_opentelemetry_instrument.py)"
