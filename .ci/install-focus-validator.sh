#!/usr/bin/env bash
# A venv with the FinOps Foundation's FOCUS validator (PyPI `focus-validator` 1.0.0) for
# tests/focus/test_focus_validator.py, which runs it in a subprocess on tokentrace's
# `--focus-version 1.0` output; idempotent.
#
# Why a venv of its own: focus-validator 1.0.0 needs `multimethod<1.11` and pins pandas/pandera
# versions the main venv should not be held to.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi
MAIN_PY="${MAIN_PY:-$PWD/.venv/bin/python}"
[ -x "$MAIN_PY" ] || MAIN_PY=/work/main/.venv/bin/python
VENV=.ci-work/focus-validator-venv
MARKER="$VENV/.installed-v1"
if [ -f "$MARKER" ]; then
    echo "focus-validator venv: already installed"
    exit 0
fi
mkdir -p .ci-work
rm -rf "$VENV"
"$MAIN_PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q "focus-validator==1.0.0" "multimethod<1.11"
"$VENV/bin/focus-validator" --help >/dev/null
touch "$MARKER"
echo "focus-validator venv: installed"
