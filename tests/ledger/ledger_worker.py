"""One process of the many-writers test: N calls through the real openai SDK into a shared ledger.

Run as ``python ledger_worker.py <openai base url> <ledger file> <calls>``; every call is the same
request, so the server answers each with the same usage.
"""

from __future__ import annotations

import sys

import openai

import tokentrace


def main() -> None:
    base_url, ledger, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tokentrace.instrument(configure_sdk=False, providers=["openai"], ledger=ledger)
    client = openai.OpenAI(base_url=base_url, api_key="sk-test-ledger-workers", max_retries=0)
    with tokentrace.attribute(team=f"team-{calls % 3}"):
        for _ in range(calls):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}])
    # no explicit flush: the exit hook must write what is pending


if __name__ == "__main__":
    main()
