"""A small workload whose every number is known in advance, run beside the demo's.

Each call is answered with usage stated in OpenAI's own wire shape, so its cost is computed here
by hand from the published rates (per 1M tokens: gpt-4o $2.50 input / $1.25 cached / $10
output, gpt-4o-mini $0.15 / $0.075 / $0.60, gpt-5-mini $0.25 / $0.025 / $2.00) and OpenAI's
usage semantics (``prompt_tokens`` *include* ``cached_tokens``; ``completion_tokens`` include
``reasoning_tokens``). The teams are prefixed ``it-`` so they never mix with the demo's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import openai

import tokentrace
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage

WORKFLOW = "it-ticket-triage"
#: A soft budget for team it-support, sized so two runs of the workload use 93.4 % of it. Its window is
#: "total" rather than a calendar one, so a run that straddles midnight UTC reads the same.
BUDGET_NAME = "it-support-total"
BUDGET_USD = 0.0085
#: A monthly budget for the same team, roomy enough never to alert on utilization: it feeds the
#: burn-rate forecast gauge (tokentrace.budget.forecast_utilization) that the forecast rule reads.
FORECAST_BUDGET_NAME = "it-support-monthly"
FORECAST_BUDGET_USD = 10 * BUDGET_USD


@dataclass(frozen=True)
class KnownCall:
    team: str
    feature: str
    model: str
    usage: Dict[str, object]
    #: Hand-computed cost in USD; ``None`` for a model no catalog prices.
    cost: Optional[float]
    stream: bool = False
    answered_by: Optional[str] = None
    in_workflow: bool = False


# (2006 - 1024) * 2.50 + 1024 * 1.25 + 300 * 10.00 = 2455 + 1280 + 3000 = 6735 -> $0.006735
_GPT4O_CACHED = openai_usage(2006, 300, cached=1024)
# 1200 * 0.15 + 80 * 0.60 = 180 + 48 = 228 -> $0.000228
_MINI = openai_usage(1200, 80)
# (5000 - 4096) * 0.15 + 4096 * 0.075 + 120 * 0.60 = 135.6 + 307.2 + 72 = 514.8 -> $0.0005148
_MINI_CACHED = openai_usage(5000, 120, cached=4096)
# 900 * 0.25 + 1500 * 2.00 (1,200 of the 1,500 output tokens are reasoning) = 225 + 3000 -> $0.003225
_GPT5_MINI_REASONING = openai_usage(900, 1500, reasoning=1200)

KNOWN_CALLS: List[KnownCall] = [
    KnownCall("it-search", "answer", "gpt-4o", _GPT4O_CACHED, 0.006735),
    KnownCall("it-search", "answer", "gpt-4o", _GPT4O_CACHED, 0.006735, stream=True),
    KnownCall("it-search", "rerank", "gpt-4o-mini", _MINI, 0.000228, stream=True),
    KnownCall("it-support", "triage", "gpt-4o-mini", _MINI_CACHED, 0.0005148, in_workflow=True),
    KnownCall("it-support", "triage", "gpt-5-mini", _GPT5_MINI_REASONING, 0.003225, in_workflow=True),
    # Asked for gpt-4o, silently answered by gpt-4o-mini: priced at what answered.
    KnownCall("it-support", "triage", "gpt-4o", _MINI, 0.000228, answered_by="gpt-4o-mini-2024-07-18", in_workflow=True),
    KnownCall("it-research", "labs", "acme-frontier-1", _MINI, None),
]


def expected_cost_by_team() -> Dict[str, float]:
    totals: Dict[str, float] = {}
    for call in KNOWN_CALLS:
        if call.cost is not None:
            totals[call.team] = totals.get(call.team, 0.0) + call.cost
    return totals


def expected_workflow_cost() -> float:
    return sum(call.cost or 0.0 for call in KNOWN_CALLS if call.in_workflow)


def expected_budget_utilization(runs: int) -> float:
    """Spend of team it-support after ``runs`` runs over :data:`BUDGET_USD`."""
    return runs * expected_cost_by_team()["it-support"] / BUDGET_USD


def _send(client: openai.OpenAI, server: ProviderServer, call: KnownCall) -> None:
    server.enqueue(ResponsePlan(usage=call.usage, model=call.answered_by))
    with tokentrace.attribute(team=call.team, feature=call.feature):
        messages = [{"role": "user", "content": f"{call.feature} request for {call.team}"}]
        if call.stream:
            for _ in client.chat.completions.create(model=call.model, messages=messages, stream=True):
                pass
        else:
            client.chat.completions.create(model=call.model, messages=messages)


def run_known_workload(server: ProviderServer) -> None:
    """Send every :data:`KNOWN_CALLS` call through the real openai SDK to ``server``."""
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-integration-test", max_retries=0)
    for call in KNOWN_CALLS:
        if not call.in_workflow:
            _send(client, server, call)
    support_budget = tokentrace.budget(
        usd=BUDGET_USD, scope="team", window="total", on_exceed="warn", name=BUDGET_NAME, match={"team": "it-support"}
    )
    monthly_budget = tokentrace.budget(
        usd=FORECAST_BUDGET_USD, scope="team", window="month", on_exceed="warn", name=FORECAST_BUDGET_NAME,
        match={"team": "it-support"},
    )
    with support_budget, monthly_budget, tokentrace.workflow(WORKFLOW):
        for call in KNOWN_CALLS:
            if call.in_workflow:
                _send(client, server, call)
