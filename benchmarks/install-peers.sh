#!/usr/bin/env bash
# A venv for `benchmarks/run.py --peers`: the OpenAI and Anthropic SDKs, the OpenTelemetry SDK and
# the other instrumentations tokentrace is compared with, so all of them run in the same process
# and the same interleaved rounds (they register opentelemetry_instrumentor entry points, so they
# stay out of the main venv). tokentrace itself comes from the checkout via PYTHONPATH.
# Idempotent; prints one SKIPPING line and fails when it cannot install. It lives here, not in
# .ci/ (whose install-*.sh scripts/test.sh runs): no test needs it, so CI does not install it.
#
#   benchmarks/install-peers.sh
#   PYTHONPATH=src .ci-work/bench-peers-venv/bin/python benchmarks/run.py --peers
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
venv=.ci-work/bench-peers-venv
check='import openai, anthropic, httpx2, wrapt, tiktoken, opentelemetry.sdk, openinference.instrumentation.openai, openinference.instrumentation.anthropic, opentelemetry.instrumentation.openai_v2, opentelemetry.instrumentation.openai, opentelemetry.instrumentation.anthropic'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "bench peers venv: ready"
  exit 0
fi
mkdir -p .ci-work
base="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then base=.venv/bin/python; fi
if ! "$base" -m venv --clear "$venv" \
  || ! "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "openai>=3,<4" "anthropic>=2,<3" httpx opentelemetry-sdk "wrapt>=1.16,<2" tiktoken \
    openinference-instrumentation-openai openinference-instrumentation-anthropic \
    "opentelemetry-instrumentation-openai-v2==2.3b0" "opentelemetry-util-genai==1.3b0" \
    opentelemetry-instrumentation-openai opentelemetry-instrumentation-anthropic \
  || ! "$venv/bin/python" -c "$check"; then
  skip_line "benchmarks/run.py --peers" "the peers venv ($venv)" "run benchmarks/install-peers.sh with network access to PyPI"
  exit 1
fi
# OpenLIT is not installed: openlit.init() instruments the whole process with no way back, so it
# cannot take turns with the others in one process (see benchmarks/peers.py).
"$venv/bin/python" -c "$check"
echo "bench peers venv: installed"
