#!/usr/bin/env bash
# A venv with the FinOps Foundation's FOCUS validator (PyPI `focus-validator` 1.0.0) for
# tests/focus/test_focus_validator.py, which runs it in a subprocess on tokentrace's
# `--focus-version 1.0` output; idempotent (see private_venv in .ci/lib.sh).
#
# Why a venv of its own: focus-validator 1.0.0 needs `multimethod<1.11` and pins pandas/pandera
# versions the main venv should not be held to.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi

install() {
    "$1/bin/python" -m pip install -q --upgrade pip >/dev/null \
        && "$1/bin/python" -m pip install -q "focus-validator==1.0.0" "multimethod<1.11" \
        && "$1/bin/focus-validator" --help >/dev/null
}

private_venv focus-validator 1 install "the FOCUS validator test (tests/focus/test_focus_validator.py)"
