#!/usr/bin/env bash
# The openai SDK's own streaming tests, run with tokentrace instrumented (tests/providers/openai/
# test_sdk_own_tests.py): the sdist of the *installed* openai version (it ships its tests) and the
# few test-only packages they import, installed into a private --target directory so the main
# venv is left as it is. Idempotent: a second run with the same openai version does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${TOKENTRACE_PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
VERSION="$("$PY" -c 'import openai; print(openai.__version__)' 2>/dev/null || true)"
if [ -z "$VERSION" ]; then
  echo "SKIPPING openai SDK tests: openai is not installed for $PY"
  exit 0
fi
WORK=.ci-work/openai-sdk-tests
DONE="$WORK/$VERSION/.done"
[ -f "$DONE" ] && exit 0
rm -rf "$WORK/$VERSION"
mkdir -p "$WORK/$VERSION"
"$PY" -m pip download -q --no-binary :all: --no-deps "openai==$VERSION" -d "$WORK/$VERSION/sdist"
tar xzf "$WORK/$VERSION/sdist/openai-$VERSION.tar.gz" -C "$WORK/$VERSION"
mv "$WORK/$VERSION/openai-$VERSION" "$WORK/$VERSION/src"
"$PY" -m pip install -q --no-deps --target "$WORK/$VERSION/deps" \
  'pytest-asyncio>=1.4' 'inline-snapshot>=0.28' 'rich>=13.7.1' markdown-it-py mdurl asttokens executing
touch "$DONE"
