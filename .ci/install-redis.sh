#!/usr/bin/env bash
# redis-server for the shared-budget tests (tests/budgets/test_redis_budgets.py); idempotent.
# Root: apt-get install redis-server. Without root: the Debian packages unpacked into
# .ci-work/debroot (see .ci/lib.sh). The tests start their own server on a free port.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${TOKENTRACE_SKIP_INSTALL:-}" = "1" ]; then exit 0; fi
ensure_deb_binary redis-server "the Redis budget-store tests (tests/budgets)" \
    redis-server redis-tools libjemalloc2 liblzf1 libatomic1
