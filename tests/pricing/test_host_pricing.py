"""The host a call went to decides whether a vendor's list price may apply (pricing/hosts.py in the catalog)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from tokentrace.core.config import Config
from tokentrace.pricing import hosts, load_catalog
from tokentrace.records import semconv as sc
from tokentrace.records.call import CallRecord, Usage

from .conftest import ts

M = 1_000_000
WHEN = ts("2026-11-01")


def call(provider: str, model: str, host: Optional[str], port: Optional[int] = 443, **counts: int) -> CallRecord:
    return CallRecord(provider, "chat", request_model=model, server_address=host, server_port=port,
                      usage=Usage(**(counts or dict(input_tokens=1000, output_tokens=1000))))


def catalog_with(tmp_path: Path, text: str):
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return load_catalog(Config(prices=str(path), strict=True))


def test_a_local_server_serving_a_commercial_name_is_not_charged_the_vendors_price(catalog) -> None:
    for host in ("127.0.0.1", "localhost", "10.0.3.7", "gpu-box.internal"):
        result = catalog.cost(call("openai", "gpt-4o", host, 8000), WHEN)
        assert (result.usd, result.status) == (None, "self_hosted"), host


def test_an_openai_compatible_host_tokentrace_does_not_know_is_not_priced_as_openai(catalog) -> None:
    result = catalog.cost(call("openai", "gpt-4o", "llm.corp-example.com"), WHEN)
    assert (result.usd, result.status) == (None, "unknown_host")


def test_known_openai_compatible_hosts_are_priced_as_themselves(catalog) -> None:
    groq = catalog.cost(call("openai", "llama-3.3-70b-versatile", "api.groq.com"), WHEN)
    assert groq.usd == pytest.approx((1000 * 0.59 + 1000 * 0.79) / M)
    cerebras = catalog.cost(call("openai", "gpt-oss-120b", "api.cerebras.ai"), WHEN)
    assert cerebras.status == sc.COST_PRICED and cerebras.model == "gpt-oss-120b"
    assert catalog.resolve_record(call("openai", "gpt-oss-120b", "api.cerebras.ai")).namespace == "cerebras"
    bedrock = catalog.resolve_record(call("openai", "us.amazon.nova-2-lite-v1:0", "bedrock-mantle.us-east-1.api.aws"))
    assert bedrock.provider == "aws.bedrock" and bedrock.namespace == "aws"


def test_the_vendor_itself_and_a_registered_stand_in_get_list_prices(catalog) -> None:
    expected = (1000 * 2.5 + 1000 * 10) / M
    assert catalog.cost(call("openai", "gpt-4o", "api.openai.com"), WHEN).usd == pytest.approx(expected)
    assert catalog.cost(call("openai", "gpt-4o", None, None), WHEN).usd == pytest.approx(expected)  # no host known: the SDK's vendor
    hosts.register_stand_in("127.0.0.1", 59999)
    try:
        assert catalog.cost(call("openai", "gpt-4o", "127.0.0.1", 59999), WHEN).usd == pytest.approx(expected)
    finally:
        hosts.unregister_stand_in("127.0.0.1", 59999)


def test_the_users_prices_can_price_a_host(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, """
[[model]]
host = "10.0.0.*"
match = "*"
input = 0.1
output = 0.3

[[model]]
provider = "self-hosted"
match = "my-llama*"
input = 0.2
output = 0.6

[[host]]
match = "llm-gateway.corp-example.com"
provider = "openai"
""")
    assert catalog.cost(call("openai", "gpt-4o", "10.0.0.12", 8000), WHEN).usd == pytest.approx((1000 * 0.1 + 1000 * 0.3) / M)
    assert catalog.cost(call("openai", "my-llama-70b", "localhost", 11434), WHEN).usd == pytest.approx((1000 * 0.2 + 1000 * 0.6) / M)
    assert catalog.cost(call("openai", "gpt-4o", "localhost", 8000), WHEN).status == "self_hosted"  # no rule for this model
    gateway = catalog.cost(call("openai", "gpt-4o", "llm-gateway.corp-example.com"), WHEN)
    assert gateway.usd == pytest.approx((1000 * 2.5 + 1000 * 10) / M)  # the gateway bills OpenAI's list price, as the file says


def test_a_host_scoped_price_does_not_leak_to_other_hosts(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, '[[model]]\nhost = "10.0.0.12:8000"\nmatch = "gpt-4o"\ninput = 0.1\noutput = 0.1\n')
    assert catalog.cost(call("openai", "gpt-4o", "10.0.0.12", 8000), WHEN).usd == pytest.approx(0.0002)
    assert catalog.cost(call("openai", "gpt-4o", "10.0.0.12", 9000), WHEN).status == "self_hosted"
    assert catalog.cost(call("openai", "gpt-4o", "api.openai.com"), WHEN).usd == pytest.approx(0.0125)


def test_a_discount_applies_to_the_provider_it_names_only(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, '[[discount]]\nprovider = "openai"\npercent = 20\n')
    openai_call = catalog.cost(call("openai", "gpt-4o", "api.openai.com"), WHEN)
    azure_call = catalog.cost(call("azure.ai.openai", "gpt-4o", "acme.openai.azure.com"), WHEN)
    groq_call = catalog.cost(call("openai", "openai/gpt-oss-120b", "api.groq.com"), WHEN)
    assert openai_call.usd == pytest.approx(0.0125 * 0.8)
    assert azure_call.usd == pytest.approx(0.0125)
    assert groq_call.usd == pytest.approx((1000 * 0.15 + 1000 * 0.6) / M)


def test_discount_and_price_providers_accept_common_names(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, '[[discount]]\nprovider = "bedrock"\npercent = 10\n')
    result = catalog.cost(call("aws.bedrock", "amazon.titan-text-express-v1", "bedrock-runtime.us-east-1.amazonaws.com"), WHEN)
    assert result.usd == pytest.approx((1000 * 0.2 + 1000 * 0.6) * 0.9 / M)
    with pytest.raises(Exception, match="not a provider name tokentrace knows"):
        catalog_with(tmp_path, '[[discount]]\nprovider = "opnai"\npercent = 10\n')


def test_claude_on_a_vertex_regional_endpoint_pays_the_regional_premium(catalog) -> None:
    regional = catalog.cost(call("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "us-east5-aiplatform.googleapis.com"), WHEN)
    assert regional.usd == pytest.approx(0.0198)  # (1000 x 3 + 1000 x 15) / 1M x 1.1
    global_ = catalog.cost(call("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "aiplatform.googleapis.com"), WHEN)
    assert global_.usd == pytest.approx(0.018)
    older = catalog.cost(call("gcp.vertex_ai", "claude-3-5-haiku@20241022", "us-east5-aiplatform.googleapis.com"), WHEN)
    assert older.usd == pytest.approx((1000 * 0.8 + 1000 * 4) / M)  # no premium before Claude 4.5
    gemini = catalog.cost(call("gcp.vertex_ai", "gemini-2.5-flash", "us-central1-aiplatform.googleapis.com"), WHEN)
    assert gemini.usd == pytest.approx((1000 * 0.3 + 1000 * 2.5) / M)
