"""Budgets that see it coming and routing on purpose: ``python examples/routing.py`` (offline).

It starts tokentrace's local OpenAI-compatible server on 127.0.0.1, points the real ``openai``
SDK at it, and shows

1. a burn-rate forecast: a monthly team budget that the current rate will use up early;
2. a downgrade budget: past its limit, gpt-5 calls are sent to gpt-5-mini (never silently), by a map
   or by a function;
3. a model policy: team "search" may only call the mini models; gpt-5 is rewritten, o3 blocked
   (and one from a policies file: team "labs" may not call o3);
4. a spend anomaly: this hour's spend against the same hour of the previous days;
5. the vendor's own spend limit (a 429 ``project_spend_limit_exceeded``) recorded as what it is.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import openai

import tokentrace
from tokentrace.budgets import AnomalyAlert, ForecastAlert
from tokentrace.testing import ProviderServer, ResponsePlan

USAGE = {"prompt_tokens": 20_000, "completion_tokens": 2_000, "total_tokens": 22_000}
ASK = [{"role": "user", "content": "Summarise today's support tickets."}]


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # tokentrace's warnings are shown through the callbacks below
    alerts: list = []
    with ProviderServer() as server:
        # Model policies can live in a file too (or in the budgets file): team labs may not call o3.
        policies = Path(tempfile.mkdtemp()) / "policies.toml"
        policies.write_text('[[policy]]\nname = "labs-no-o3"\nmatch = { team = "labs" }\ndeny = ["o3"]\naction = "block"\n')
        tokentrace.instrument(
            anomaly={"factor": 3, "min_usd": 0.05, "on_alert": alerts.append}, model_policies=str(policies), strict=True
        )
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-local")

        def call(model: str) -> str:
            server.enqueue(ResponsePlan(usage=dict(USAGE)))
            return client.chat.completions.create(model=model, messages=ASK).model

        # 1. Forecast: $2 a month for team support, measured over the last second of traffic.
        monthly = tokentrace.budget(
            usd=2.0, window="month", scope="team", name="support-monthly", on_exceed=alerts.append, forecast_over="1s"
        )
        with monthly, tokentrace.attribute(team="support"):
            call("gpt-4o-mini")
            time.sleep(1.1)
            call("gpt-4o-mini")
        forecast = next(a for a in alerts if isinstance(a, ForecastAlert))
        print("forecast:", forecast.message())

        # 2. Downgrade: $0.05 of gpt-5 for this block, then gpt-5-mini.
        with tokentrace.budget(usd=0.05, on_exceed="downgrade", downgrade={"gpt-5": "gpt-5-mini"}):
            answered = [call("gpt-5") for _ in range(3)]
        print("downgrade: gpt-5 answered by", answered)

        # 2b. Or a function decides the cheaper model (here: any gpt-5 variant to gpt-5-nano).
        with tokentrace.budget(tokens=0, on_exceed="downgrade", downgrade=lambda model: "gpt-5-nano" if model.startswith("gpt-5") else None):
            print("downgrade by function: gpt-5 answered by", call("gpt-5"))

        # 3. Model policy for team search: the mini models only; gpt-5 is rewritten, o3 is blocked.
        policy = tokentrace.model_policy(
            allow=["gpt-5-mini", "gpt-4o-mini"], action="rewrite", rewrite={"gpt-5": "gpt-5-mini"}, match={"team": "search"}
        )
        with policy, tokentrace.attribute(team="search"):
            print("policy: gpt-5 answered by", call("gpt-5"))
            try:
                client.chat.completions.create(model="o3", messages=ASK)  # blocked before it is sent
            except tokentrace.ModelNotAllowed as refused:
                print("policy:", refused)
        with tokentrace.attribute(team="labs"):
            try:
                client.chat.completions.create(model="o3", messages=ASK)
            except tokentrace.ModelNotAllowed as refused:
                print("policy from file:", refused)

        # 4. Anomaly: team support usually spends $0.02 at this hour (a week of history, seeded
        # here as a ledger would); three gpt-5 calls now are far above that.
        pipeline = tokentrace.instrumentation.active_pipeline()
        detector = next(o for o in pipeline.observers if type(o).__name__ == "AnomalyDetector")
        detector.load_history((time.time() - day * 86400, "team", "support", 0.02) for day in range(1, 8))
        with tokentrace.attribute(team="support", workflow="ticket-summary"):
            for _ in range(3):
                call("gpt-5")
        anomaly = next(a for a in alerts if isinstance(a, AnomalyAlert) and a.dimension == "team")
        print("anomaly:", anomaly.message())

        # 5. The vendor's spend limit: OpenAI answers 429 project_spend_limit_exceeded.
        server.enqueue(
            ResponsePlan(
                status=429,
                error={"message": "You exceeded your current quota.", "type": "insufficient_quota", "param": None,
                       "code": "project_spend_limit_exceeded"},
            )
        )
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        tokentrace.uninstrument()
        spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(spans))
        tokentrace.instrument(tracer_provider=provider)
        try:
            openai.OpenAI(base_url=server.openai_url, api_key="sk-local", max_retries=0).chat.completions.create(
                model="gpt-5", messages=ASK
            )
        except openai.RateLimitError as refused:
            (span,) = spans.get_finished_spans()
            print(f"vendor limit: {type(refused).__name__} recorded as {span.attributes['tokentrace.vendor.spend_limit']}")
        tokentrace.uninstrument()


if __name__ == "__main__":
    main()
