"""Budgets that stop a runaway: run ``python examples/budgets.py`` (no API key, no network).

It starts tokentrace's local OpenAI-compatible server on 127.0.0.1, points the real ``openai``
SDK at it, and shows a soft budget alerting at 50/80/100 %, a hard budget stopping an agent loop
before the call that would go over is sent, and team budgets declared in TOML. Set
``TOKENTRACE_BUDGET_STORE=redis://127.0.0.1:6379/0`` to keep the team budgets in Redis.
"""

from __future__ import annotations

import os
import tempfile

import openai

import tokentrace
from tokentrace.testing import ProviderServer

BUDGETS_TOML = """
[[budget]]
name = "team-daily"      # one counter per team, per UTC day
scope = "team"
usd = 0.0005
window = "day"

[[budget]]
name = "search-monthly-tokens"
scope = "team"
match = { team = "search" }
tokens = 1_000_000
window = "month"
on_exceed = "warn"       # soft: alerts only
"""


def main() -> None:
    with ProviderServer() as server, tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "budgets.toml")
        with open(path, "w") as handle:
            handle.write(BUDGETS_TOML)
        tokentrace.instrument(
            budgets=path, budget_store=os.environ.get("TOKENTRACE_BUDGET_STORE", "memory"), providers=["openai"]
        )
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-local", max_retries=0)

        def ask(question: str) -> str:
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}], max_tokens=200
            )
            return reply.choices[0].message.content or ""

        # 1. A soft budget: alerts at 50 %, 80 % and 100 %, never blocks.
        alerts = []
        with tokentrace.budget(usd=0.0001, on_exceed=alerts.append):
            for _ in range(6):
                ask("Summarise yesterday's incident report in one line.")
        print("soft budget alerts:", [f"{a.threshold:.0%}" for a in alerts])

        # 2. A hard budget around an agent loop: the call that would run past it is never sent.
        with tokentrace.budget(usd=0.0001) as block:
            steps = 0
            try:
                while True:
                    ask("Think about the next step of the plan.")
                    steps += 1
            except tokentrace.BudgetExceeded as stop:
                print(f"agent stopped after {steps} calls, ${block.spent_usd:.8f} spent:\n  {stop}")

        # 3. Team budgets from the TOML file: search's daily dollars run out, ads keep going.
        with tokentrace.attribute(team="search"):
            try:
                for _ in range(50):
                    ask("Rank these results.")
            except tokentrace.BudgetExceeded as stop:
                print(f"team {stop.scope_value!r} stopped: over by ${stop.overspend:.8f} since {stop.exceeded_since:%H:%M:%S} UTC")
        with tokentrace.attribute(team="ads"):
            ask("Write a tagline.")
            print("team 'ads' still has budget")
        print("requests the provider received:", len(server.requests))
        tokentrace.uninstrument()


if __name__ == "__main__":
    main()
