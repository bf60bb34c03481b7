"""A process that holds a budget reservation: it streams slowly, then is killed or finishes.

Run as ``python lease_worker.py <openai base url> <redis url> <limit usd>``; prints ``started``
after the first chunk (its reservation is in Redis), then ``done`` when its stream ended.
"""

from __future__ import annotations

import sys

import openai

import tokentrace


def main() -> None:
    base_url, store, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    tokentrace.instrument(
        configure_sdk=False,
        providers=["openai"],
        budget_store=store,
        budgets=[{"name": "leased", "scope": "global", "window": "day", "usd": limit, "project": True}],
    )
    client = openai.OpenAI(base_url=base_url, api_key="sk-test-budgets", max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}], max_tokens=1000, stream=True
    )
    for i, _ in enumerate(stream):
        if i == 0:
            print("started", flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
