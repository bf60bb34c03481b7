#!/usr/bin/env bash
# A venv with the other OpenAI instrumentations tokentrace must coexist with (they register
# opentelemetry_instrumentor entry points, so they stay out of the main venv), for
# tests/hardening/test_coexistence.py. tokentrace itself comes from the checkout via PYTHONPATH.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.ci-work/peers-venv
check='import openai, wrapt, tiktoken, opentelemetry.sdk, openinference.instrumentation.openai, opentelemetry.instrumentation.openai_v2, opentelemetry.instrumentation.openai'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "peers venv: ready"
  exit 0
fi
mkdir -p .ci-work
base="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then base=.venv/bin/python; fi
"$base" -m venv --clear "$venv"
# Pins: openai-v2 2.4b0 imports a module opentelemetry-util-genai 1.3b0 no longer has, and the
# peers call wrapt 1's wrap_function_wrapper(module=...); openai-v2 imports httpx (openai 3 uses httpx2).
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "openai>=3,<4" httpx opentelemetry-sdk "wrapt>=1.16,<2" tiktoken \
  openinference-instrumentation-openai "opentelemetry-instrumentation-openai-v2==2.3b0" \
  "opentelemetry-util-genai==1.3b0" opentelemetry-instrumentation-openai
"$venv/bin/python" -c "$check"
echo "peers venv: installed"
