#!/usr/bin/env bash
# Venvs for the exit/lifecycle subprocess tests on Python versions beside the main one
# (tests/hardening/test_exit.py): each gets tokentrace's runtime deps and the openai and anthropic
# SDKs, with the checkout put on the path by the tests (PYTHONPATH), not installed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci-work
PKGS=(opentelemetry-sdk wrapt tiktoken "openai>=3,<4" "anthropic>=2,<3")
for version in 3.12 3.13; do
  venv=".ci-work/py${version}-venv"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import openai, anthropic, opentelemetry.sdk, wrapt, tiktoken' 2>/dev/null; then
    echo "python ${version} venv: ready"
    continue
  fi
  base=""
  for candidate in /root/.pyenv/versions/${version}*/bin/python "$HOME"/.pyenv/versions/${version}*/bin/python "python${version}"; do
    # (a pyenv shim exists for every version but fails for one not selected: run it to know)
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then base="$candidate"; break; fi
  done
  if [ -z "$base" ]; then
    echo "python ${version}: not on this machine; its exit tests will be skipped"
    continue
  fi
  "$base" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}"
  echo "python ${version} venv: installed"
done
