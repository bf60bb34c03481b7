#!/usr/bin/env bash
# The openai SDK's own streaming tests, run with tokentrace instrumented (tests/providers/openai/
# test_sdk_own_tests.py): the sdist of the *installed* openai version (it ships its tests) and the
# few test-only packages they import, installed into a private --target directory so the main
# venv is left as it is. Idempotent: a second run with the same openai version does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
status=0
sdk_sdist_tests openai || status=$?
[ "$status" = 3 ] && exit 0
[ "$status" = 0 ] || exit 1
"$sdk_python" -m pip install -q --no-deps --target "$sdk_dir/deps" \
  'pytest-asyncio>=1.4' 'inline-snapshot>=0.28' 'rich>=13.7.1' markdown-it-py mdurl asttokens executing
touch "$sdk_dir/.done"
