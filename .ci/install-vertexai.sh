#!/usr/bin/env bash
# A venv with the Vertex AI SDK (google-cloud-aiplatform's `vertexai`) for tests/providers/vertexai
# (run in a subprocess by tests/providers/vertexai/test_in_venv.py); idempotent (see private_venv
# in .ci/lib.sh), no root needed.
#
# Why a venv of its own: google-cloud-aiplatform requires google-genai<3, older than the
# google-genai of the main venv. The venv sees the main venv's packages through a .pth file (the
# other SDKs, pytest, OpenTelemetry) and adds the Vertex AI SDK with its own google-genai and
# google-api-core in front of them; tokentrace itself is installed editable from this checkout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi

install() {
    local pip=("$1/bin/python" -m pip install -q --disable-pip-version-check)
    see_main_venv "$1" \
        && "${pip[@]}" "google-cloud-aiplatform>=1.60" \
        && "${pip[@]}" --no-deps -e "$ci_root"
}

private_venv vertexai 1 install "the Vertex AI SDK tests (tests/providers/vertexai)" \
    'import vertexai.generative_models, google.auth.aio.credentials, google.genai, tokentrace'
