#!/usr/bin/env bash
# The anthropic SDK's own OpenTelemetry tests, run with tokentrace instrumented (tests/providers/
# anthropic/test_sdk_own_tests.py): the sdist of the *installed* anthropic version (it ships its
# tests) and the test-only packages they import, at the versions the SDK's requirements-dev.lock
# pins, installed into a private --target directory so the main venv is left as it is.
# Idempotent: a second run with the same anthropic version does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${TOKENTRACE_PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
VERSION="$("$PY" -c 'import anthropic; print(anthropic.__version__)' 2>/dev/null || true)"
if [ -z "$VERSION" ]; then
  echo "SKIPPING anthropic SDK tests: anthropic is not installed for $PY"
  exit 0
fi
WORK=.ci-work/anthropic-sdk-tests
DONE="$WORK/$VERSION/.done"
[ -f "$DONE" ] && exit 0
rm -rf "$WORK/$VERSION"
mkdir -p "$WORK/$VERSION"
if ! "$PY" -m pip download -q --no-binary :all: --no-deps "anthropic==$VERSION" -d "$WORK/$VERSION/sdist"; then
  echo "SKIPPING anthropic SDK tests: the anthropic $VERSION sdist could not be downloaded (no network or index?)" >&2
  exit 1
fi
tar xzf "$WORK/$VERSION/sdist/anthropic-$VERSION.tar.gz" -C "$WORK/$VERSION"
mv "$WORK/$VERSION/anthropic-$VERSION" "$WORK/$VERSION/src"
# Test-only packages the two test files and the SDK's conftest import; pinned as the SDK pins them.
PACKAGES=(respx http-snapshot inline-snapshot pytest-asyncio dirty-equals asttokens executing rich markdown-it-py mdurl)
SPECS=()
for package in "${PACKAGES[@]}"; do
  pin="$(grep -E "^${package}==" "$WORK/$VERSION/src/requirements-dev.lock" 2>/dev/null | head -1 | sed 's/ *;.*//' || true)"
  SPECS+=("${pin:-$package}")
done
"$PY" -m pip install -q --no-deps --target "$WORK/$VERSION/deps" "${SPECS[@]}"
touch "$DONE"
