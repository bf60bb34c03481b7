"""One process of the shared-budget test: calls through the real openai SDK until its budget stops it.

Run as ``python budget_worker.py <openai base url> <redis url> <limit usd> <rendezvous dir> <processes>``;
prints one JSON line: how many calls were admitted and how the last one was stopped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import openai

import tokentrace


def main() -> None:
    base_url, store, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rendezvous, processes = Path(sys.argv[4]), int(sys.argv[5])
    tokentrace.instrument(
        configure_sdk=False,
        providers=["openai"],
        budget_store=store,
        budgets=[{"name": "shared-daily", "scope": "global", "window": "day", "usd": limit}],
    )
    client = openai.OpenAI(base_url=base_url, api_key="sk-test-budgets", max_retries=0)
    # Start together, so the processes really race for the last dollars of the budget.
    (rendezvous / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 30
    while len(list(rendezvous.glob("ready-*"))) < processes and time.monotonic() < deadline:
        time.sleep(0.005)
    admitted = 0
    try:
        while True:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}])
            admitted += 1
    except tokentrace.BudgetExceeded as exc:
        print(json.dumps({"admitted": admitted, "budget": exc.budget, "reason": exc.reason}), flush=True)


if __name__ == "__main__":
    main()
