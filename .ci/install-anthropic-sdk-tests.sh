#!/usr/bin/env bash
# The anthropic SDK's own OpenTelemetry tests, run with tokentrace instrumented (tests/providers/
# anthropic/test_sdk_own_tests.py): the sdist of the *installed* anthropic version (it ships its
# tests) and the test-only packages they import, at the versions the SDK's requirements-dev.lock
# pins, installed into a private --target directory so the main venv is left as it is.
# Idempotent: a second run with the same anthropic version does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
status=0
sdk_sdist_tests anthropic || status=$?
[ "$status" = 3 ] && exit 0
[ "$status" = 0 ] || exit 1
# Test-only packages the two test files and the SDK's conftest import; pinned as the SDK pins them.
PACKAGES=(respx http-snapshot inline-snapshot pytest-asyncio dirty-equals asttokens executing rich markdown-it-py mdurl)
SPECS=()
for package in "${PACKAGES[@]}"; do
  pin="$(grep -E "^${package}==" "$sdk_dir/src/requirements-dev.lock" 2>/dev/null | head -1 | sed 's/ *;.*//' || true)"
  SPECS+=("${pin:-$package}")
done
"$sdk_python" -m pip install -q --no-deps --target "$sdk_dir/deps" "${SPECS[@]}"
touch "$sdk_dir/.done"
