#!/usr/bin/env bash
# A venv with the Vertex AI SDK (google-cloud-aiplatform's `vertexai`) for tests/providers/vertexai
# (run in a subprocess by tests/providers/vertexai/test_in_venv.py); idempotent, no root needed.
#
# Why a venv of its own: google-cloud-aiplatform requires google-genai<3, older than the
# google-genai of the main venv. The venv sees the main venv's packages through a .pth file (the
# other SDKs, pytest, OpenTelemetry) and adds the Vertex AI SDK with its own google-genai and
# google-api-core in front of them; tokentrace itself is installed editable from this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi
name=vertexai
venv="${TOKENTRACE_CI_WORK:-$PWD/.ci-work}/$name-venv"
marker="$venv/.installed-v1"
check='import vertexai.generative_models, google.auth.credentials, google.genai, tokentrace'
if [ -f "$marker" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "$name venv: already installed"
    exit 0
fi
main_py="${MAIN_PY:-$PWD/.venv/bin/python}"
[ -x "$main_py" ] || main_py="$(command -v python3)"
skip() {
    rm -rf "$venv"
    echo "SKIPPING the vertexai tests (tests/providers/vertexai): the $name venv is missing; run .ci/install-$name.sh (needs PyPI)" >&2
    exit 1
}
mkdir -p "$(dirname "$venv")"
rm -rf "$venv"
"$main_py" -m venv "$venv" || skip
main_site=$("$main_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
venv_site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$main_site" > "$venv_site/zz-main-venv.pth"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "google-cloud-aiplatform>=1.60" || skip
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e . || skip
"$venv/bin/python" -c "$check" || skip
touch "$marker"
echo "$name venv: ready ($venv)"
