#!/usr/bin/env bash
# A venv with aiobotocore for tests/providers/aiobotocore (run in a subprocess by
# tests/providers/aiobotocore/test_in_venv.py); idempotent (see private_venv in .ci/lib.sh), no
# root needed.
#
# Why a venv of its own: aiobotocore pins an exact botocore range, older than the boto3/botocore
# of the main venv. The venv sees the main venv's packages through a .pth file (the other SDKs,
# pytest, OpenTelemetry) and adds aiobotocore with its matching botocore and boto3 in front of
# them; tokentrace itself is installed editable from this checkout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi

install() {
    local pip=("$1/bin/python" -m pip install -q --disable-pip-version-check)
    see_main_venv "$1" \
        && "${pip[@]}" "aiobotocore>=2.13" boto3 \
        && "${pip[@]}" --no-deps -e "$ci_root"
}

private_venv aiobotocore 1 install "the aiobotocore tests (tests/providers/aiobotocore)" \
    'import aiobotocore.session, botocore, boto3, tokentrace'
