"""``tokentrace demo``: a small, realistic LLM application run against the local provider server.

Three teams share one LLM bill: support triages tickets in an agent workflow, search rewrites
queries and embeds documents, platform summarises logs (its big model is silently rerouted to
a smaller one) and calls a self-hosted model nobody priced; one request is rate limited. The
workload is deterministic (usage is scripted), so the demo's totals are the same every run and
integration tests can compare what the backends receive against them.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, List, Optional, Tuple

import tokentrace
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage

#: The request the provider silently answers with another model.
REROUTES = {"gpt-5": "gpt-5-mini-2025-08-07"}

Step = Tuple[str, Callable[[], None]]


def openai_steps(server: ProviderServer) -> List[Step]:
    import openai

    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-demo-not-a-real-key", max_retries=0)
    tickets = [
        "My invoice shows a charge twice for October.",
        "The export button does nothing in Firefox.",
        "Can I get a refund for the unused seats?",
    ]

    def triage() -> None:
        with tokentrace.attribute(team="support", feature="ticket-triage"), tokentrace.workflow("triage-inbox"):
            for ticket in tickets:
                with tokentrace.agent_step("classify"):
                    server.enqueue(ResponsePlan(usage=openai_usage(420, 12), text='{"category": "billing"}'))
                    client.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=[{"role": "system", "content": "Classify the ticket."}, {"role": "user", "content": ticket}],
                        response_format={"type": "json_object"},
                    )
            with tokentrace.agent_step("draft-reply"):
                server.enqueue(ResponsePlan(usage=openai_usage(2600, 380, cached=2048), chunks=8))
                for _ in client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "Draft a reply to the billing ticket."}], stream=True
                ):
                    pass

    def search() -> None:
        with tokentrace.attribute(team="search", feature="query-rewrite"):
            server.enqueue(
                ResponsePlan(
                    usage={
                        "input_tokens": 900,
                        "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens": 220,
                        "output_tokens_details": {"reasoning_tokens": 128},
                        "total_tokens": 1120,
                    }
                )
            )
            client.responses.create(model="gpt-5-mini", input="rewrite: cheap flights lisbon may", reasoning={"effort": "low"})
        with tokentrace.attribute(team="search", feature="doc-embedding"):
            server.enqueue(ResponsePlan(usage={"prompt_tokens": 5200, "total_tokens": 5200}))
            client.embeddings.create(model="text-embedding-3-small", input=["doc one", "doc two", "doc three"])

    def platform() -> None:
        with tokentrace.attribute(team="platform", feature="log-summarizer"), tokentrace.workflow("nightly-log-digest"):
            server.enqueue(ResponsePlan(usage=openai_usage(48000, 900, cached=32000, reasoning=512)))
            client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "Summarise last night's logs."}])
            server.enqueue(ResponsePlan(status=429))
            try:
                client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "Summarise again."}])
            except openai.RateLimitError:
                pass
            server.enqueue(ResponsePlan(usage=openai_usage(3000, 400)))
            client.chat.completions.create(model="acme-llama-70b-selfhosted", messages=[{"role": "user", "content": "Classify errors."}])

    return [("support: triage workflow (4 calls, 1 streamed)", triage), ("search: rewrite + embeddings", search), ("platform: log digest (rerouted, rate-limited, unpriced)", platform)]


def all_steps(server: ProviderServer) -> List[Step]:
    """OpenAI's steps, then Anthropic's, Google's and Bedrock's for the SDKs that are installed."""
    from .demo_providers import steps as provider_steps

    return openai_steps(server) + provider_steps(server)


def run_workload(server: ProviderServer, progress: Optional[Callable[[int, int, str], None]] = None) -> int:
    """Run every demo step through the real SDKs against ``server``; returns the number of steps."""
    server.reroutes.update(REROUTES)
    steps = all_steps(server)
    for index, (label, step) in enumerate(steps, 1):
        if progress:
            progress(index, len(steps), label)
        step()
    return len(steps)


def _progress(index: int, total: int, label: str) -> None:
    bar = "#" * index + "." * (total - index)
    print(f"[{bar}] {index}/{total} {label}", file=sys.stderr, flush=True)


def main(args: Any) -> int:
    from .ledger_path import chosen_ledger
    from .setup import cli_telemetry

    telemetry = cli_telemetry("tokentrace-demo")
    tracer_provider, summary = telemetry.tracer_provider, telemetry.summary
    ledger = chosen_ledger(getattr(args, "ledger", None))
    tokentrace.uninstrument()
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=telemetry.meter_provider, ledger=ledger or "off")
    print("tokentrace demo: running a small multi-team LLM app against the local provider server (127.0.0.1)", file=sys.stderr)
    with ProviderServer() as server:
        run_workload(server, _progress)
    tracer_provider.force_flush()
    from .summary import print_summary

    print_summary(summary, sys.stdout, title="tokentrace demo summary")
    tokentrace.uninstrument()  # writes the ledger's last rows
    if ledger:
        print(f"tokentrace demo: spend ledger written to {ledger}; next: `tokentrace report` and `tokentrace focus`", file=sys.stderr)
    telemetry.shutdown()
    return 0
