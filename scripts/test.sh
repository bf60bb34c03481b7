#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (idempotent, fast when already there).
# Usage: ./scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
for installer in .ci/install-*.sh; do
  [ -f "$installer" ] && bash "$installer"
done
exec .venv/bin/python -m pytest "$@"
