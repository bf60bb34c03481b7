"""Routing on purpose: budgets that downgrade, and model policies, through the real SDKs.

Costs are hand-computed from the catalog (USD per 1M tokens): gpt-5 $1.25 in / $10 out, gpt-5-mini
$0.25 / $2. A call reporting 1,000 prompt + 500 completion tokens costs
1000 * 1.25e-6 + 500 * 10e-6 = $0.00625 on gpt-5 and 1000 * 0.25e-6 + 500 * 2e-6 = $0.00125 on
gpt-5-mini.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List

import anthropic
import openai
import pytest

import tokentrace
from tokentrace.budgets import BudgetConfigError, BudgetExceeded, ModelNotAllowed
from tokentrace.testing import ProviderServer, ResponsePlan

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
GPT5_USD = 1000 * 1.25e-6 + 500 * 10e-6
MINI_USD = 1000 * 0.25e-6 + 500 * 2e-6
MESSAGES = [{"role": "user", "content": "Draft the refund reply."}]


def plans(n: int) -> List[ResponsePlan]:
    return [ResponsePlan(usage=dict(USAGE)) for _ in range(n)]


def ask(client: openai.OpenAI, model: str = "gpt-5") -> Any:
    return client.chat.completions.create(model=model, messages=MESSAGES)


def sent_models(server: ProviderServer) -> List[str]:
    return [r.json["model"] for r in server.requests]


def test_downgrade_budget_sends_the_cheaper_model_past_the_limit_and_says_so(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    server.enqueue(*plans(3))
    caplog.set_level(logging.WARNING, "tokentrace")
    with tokentrace.budget(usd=GPT5_USD / 2, on_exceed="downgrade", downgrade={"gpt-5": "gpt-5-mini"}) as block:
        first = ask(client)
        second = ask(client)
        with pytest.raises(BudgetExceeded):
            ask(client, model="gpt-4o")  # no cheaper model named for it: blocked, never sent
    assert sent_models(server) == ["gpt-5", "gpt-5-mini"]
    assert first.model.startswith("gpt-5-2") and second.model.startswith("gpt-5-mini")  # dated snapshots
    assert block.spent_usd == pytest.approx(GPT5_USD + MINI_USD, abs=1e-12)

    spans = telemetry.llm_spans()
    assert [s.attributes["gen_ai.request.model"] for s in spans] == ["gpt-5", "gpt-5", "gpt-4o"]
    full, downgraded, blocked = spans
    assert "tokentrace.model.policy" not in full.attributes
    assert downgraded.attributes["tokentrace.model.policy"] == "gpt-5-mini"
    assert downgraded.attributes["gen_ai.response.model"] == second.model
    assert downgraded.attributes["tokentrace.model.rerouted"] is False  # the policy's choice is no silent reroute
    assert downgraded.attributes["tokentrace.cost.usd"] == pytest.approx(MINI_USD, abs=1e-12)
    event = next(e for e in downgraded.events if e.name == "tokentrace.budget.downgraded")
    assert event.attributes["tokentrace.model.requested"] == "gpt-5"
    assert event.attributes["tokentrace.model.policy"] == "gpt-5-mini"
    assert any(e.name == "tokentrace.budget.exceeded" for e in blocked.events)
    assert sum("sent to 'gpt-5-mini' instead" in r.getMessage() for r in caplog.records) == 1
    assert any("further calls are sent to the cheaper model" in r.getMessage() for r in caplog.records)


def test_downgrade_matches_dated_snapshots_and_takes_a_function(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    server.enqueue(*plans(3))
    chosen: List[str] = []

    def cheaper(model: str) -> str:
        chosen.append(model)
        return "gpt-5-mini"

    with tokentrace.budget(tokens=1, on_exceed="downgrade", downgrade={"gpt-5": "gpt-5-mini"}):
        ask(client, model="gpt-5")
        ask(client, model="gpt-5-2025-08-07")  # a snapshot of gpt-5: the same map entry applies
    with tokentrace.budget(tokens=0, on_exceed="downgrade", downgrade=cheaper):
        ask(client, model="gpt-5")
    assert sent_models(server) == ["gpt-5", "gpt-5-mini", "gpt-5-mini"]
    assert chosen == ["gpt-5"]


def test_downgrade_and_policy_match_vendor_spellings_of_the_same_model(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    """One model identity (the catalog's): an OpenRouter-style spelling, word order and dotted
    version of claude-sonnet-4-5 is that model for a downgrade map and for a policy."""
    telemetry = instrument()
    server.enqueue(*plans(4))
    spelled = "anthropic/claude-4.5-sonnet-20250929"
    with tokentrace.budget(tokens=1, on_exceed="downgrade", downgrade={"claude-sonnet-4-5": "claude-haiku-4-5"}):
        ask(client, model=spelled)
        ask(client, model=spelled)  # past the limit: the map's entry for claude-sonnet-4-5 applies
    with tokentrace.model_policy(allow=["claude-sonnet-4-5"], action="block", name="sonnet-only"):
        ask(client, model=spelled)  # the allowed model, spelled by its vendor: not blocked
        with pytest.raises(ModelNotAllowed):
            ask(client, model="anthropic/claude-4.5-haiku")  # another model is still blocked
    assert sent_models(server) == [spelled, "claude-haiku-4-5", spelled]
    assert not any(e.name == "tokentrace.policy.violation" for s in telemetry.llm_spans()[2:3] for e in s.events)


def test_downgrade_through_anthropic(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    usage = {"input_tokens": 1000, "output_tokens": 100}
    server.enqueue(ResponsePlan(usage=usage), ResponsePlan(usage=usage))
    downgrade = {"claude-opus-4-5": "claude-haiku-4-5"}
    with tokentrace.budget(usd=0.001, on_exceed="downgrade", downgrade=downgrade):
        for _ in range(2):
            client.messages.create(model="claude-opus-4-5", max_tokens=100, messages=MESSAGES)
    assert sent_models(server) == ["claude-opus-4-5", "claude-haiku-4-5"]
    second = telemetry.llm_spans()[1]
    assert second.attributes["gen_ai.request.model"] == "claude-opus-4-5"
    assert second.attributes["tokentrace.model.policy"] == "claude-haiku-4-5"
    # claude-haiku-4-5: $1 / 1M input, $5 / 1M output
    assert second.attributes["tokentrace.cost.usd"] == pytest.approx(1000 * 1e-6 + 100 * 5e-6, abs=1e-12)


def test_downgrade_needs_a_model_map() -> None:
    with pytest.raises(BudgetConfigError, match="needs downgrade="):
        tokentrace.budget(usd=1, on_exceed="downgrade")
    with pytest.raises(BudgetConfigError, match="only applies with on_exceed='downgrade'"):
        tokentrace.budget(usd=1, downgrade={"gpt-5": "gpt-5-mini"})
    with pytest.raises(BudgetConfigError, match="to itself"):
        tokentrace.budget(usd=1, on_exceed="downgrade", downgrade={"gpt-5": "gpt-5"})


# -- model policies -------------------------------------------------------------------------------


def test_policy_warn_lets_the_call_through_and_marks_it(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    server.enqueue(*plans(2))
    caplog.set_level(logging.WARNING, "tokentrace")
    with tokentrace.model_policy(allow=["gpt-5-mini"], name="cheap-only"):
        ask(client, model="gpt-5")
        ask(client, model="gpt-5-mini-2025-08-07")  # a snapshot of an allowed model is allowed
    assert sent_models(server) == ["gpt-5", "gpt-5-mini-2025-08-07"]
    violating, fine = telemetry.llm_spans()
    event = next(e for e in violating.events if e.name == "tokentrace.policy.violation")
    assert event.attributes["tokentrace.policy.name"] == "cheap-only"
    assert event.attributes["tokentrace.policy.action"] == "warn"
    assert not any(e.name == "tokentrace.policy.violation" for e in fine.events)
    assert telemetry.total("tokentrace.policy.violations", tokentrace__policy__name="cheap-only") == 1
    assert sum("does not allow model 'gpt-5'" in r.getMessage() for r in caplog.records) == 1


def test_policy_block_raises_before_sending(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plans(1))
    with tokentrace.model_policy(deny=["gpt-5*"], action="block", name="no-gpt5"):
        with pytest.raises(ModelNotAllowed) as error:
            ask(client, model="gpt-5-pro")
        ask(client, model="gpt-4o-mini")
    assert sent_models(server) == ["gpt-4o-mini"]
    assert error.value.model == "gpt-5-pro" and error.value.policy == "no-gpt5"
    assert "does not allow model 'gpt-5-pro'" in str(error.value) and "the call was not sent" in str(error.value)


def test_policy_file_with_match_and_rewrite(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(
        """
[[budget]]
name = "search-daily"
usd = 100
window = "day"
scope = "team"

[[policy]]
name = "search-models"
match = { team = "search" }
allow = ["gpt-5-mini", "gpt-4o-mini"]
action = "rewrite"
rewrite = { "gpt-5" = "gpt-5-mini" }
"""
    )
    telemetry = instrument(budgets=str(path))
    server.enqueue(*plans(4))
    with tokentrace.attribute(team="search"):
        ask(client, model="gpt-5")
        with pytest.raises(ModelNotAllowed):  # rewrite has no target for it: blocked
            ask(client, model="o3")
    with tokentrace.attribute(team="ads"):
        ask(client, model="gpt-5")  # the policy does not cover team ads
    assert sent_models(server) == ["gpt-5-mini", "gpt-5"]
    rewritten = telemetry.llm_spans()[0]
    assert rewritten.attributes["gen_ai.request.model"] == "gpt-5"
    assert rewritten.attributes["tokentrace.model.policy"] == "gpt-5-mini"
    assert rewritten.attributes["tokentrace.cost.usd"] == pytest.approx(MINI_USD, abs=1e-12)


def test_policy_rewrite_on_gemini_and_bedrock(instrument: Any, server: ProviderServer) -> None:
    import boto3
    from botocore.config import Config
    from google import genai
    from google.genai import types

    instrument()
    gemini = genai.Client(
        api_key="AIza-test",
        http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1)),
    )
    bedrock = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}),
    )
    rewrite = {"gemini-2.5-pro": "gemini-2.5-flash", "anthropic.claude-opus-4-5*": "anthropic.claude-haiku-4-5-20251001-v1:0"}
    with tokentrace.model_policy(deny=["gemini-2.5-pro", "anthropic.claude-opus-4-5*"], action="rewrite", rewrite=rewrite):
        gemini.models.generate_content(model="gemini-2.5-pro", contents="hello")
        bedrock.converse(
            modelId="anthropic.claude-opus-4-5-20251101-v1:0",
            messages=[{"role": "user", "content": [{"text": "hello"}]}],
        )
    paths = [r.path for r in server.requests]
    assert "gemini-2.5-flash:generateContent" in paths[0]
    assert "anthropic.claude-haiku-4-5-20251001-v1" in paths[1]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"allow": []}, "needs allow="),
        ({"allow": ["gpt-5-mini"], "action": "reroute"}, "action must be one of warn, block, rewrite"),
        ({"allow": ["gpt-5-mini"], "action": "rewrite"}, "needs rewrite="),
        ({"allow": ["gpt-5-mini"], "to": "gpt-5-mini"}, "only apply with action='rewrite'"),
        ({"allow": ["gpt-5-mini"], "action": "rewrite", "to": "gpt-5"}, "is not allowed by this policy itself"),
        ({"allow": ["gpt-5-mini"], "match": {"colour": "red"}}, "unknown key 'colour' in match"),
        ({"allow": ["gpt-5-mini"], "models": ["x"]}, "unknown setting(s) 'models'"),
        ({"allow": [3]}, "allow must hold model names"),
    ],
)
def test_bad_policies_say_what_is_wrong(entry: Any, message: str) -> None:
    from tokentrace.budgets.policy import load_policies

    with pytest.raises(BudgetConfigError) as error:
        load_policies([{"name": "p", **entry}])
    assert "policy entry #1 ('p') in the model_policies option" in str(error.value)
    assert message in str(error.value)


def test_a_bad_policy_file_is_reported_and_the_rest_still_applies(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "policies.toml"
    path.write_text('[[policy]]\nname = "bad"\nallow = "gpt-5-mini"\naction = "explode"\n\n'
                    '[[policy]]\nname = "good"\ndeny = ["gpt-5"]\naction = "block"\n')
    caplog.set_level(logging.ERROR, "tokentrace")
    instrument(model_policies=str(path))
    assert any("policy entry #1 ('bad')" in r.getMessage() for r in caplog.records)
    with pytest.raises(ModelNotAllowed):
        ask(client, model="gpt-5")
    assert server.requests == []
    tokentrace.uninstrument()
    with pytest.raises(BudgetConfigError):
        tokentrace.instrument(model_policies=str(path), strict=True)
