"""pricing/hosts.py: provider names and list-price eligibility from a server address."""

from __future__ import annotations

import pytest

from tokentrace.pricing import hosts


@pytest.mark.parametrize(
    "host, provider, region",
    [
        ("api.openai.com", "openai", None),
        ("my-resource.openai.azure.com", "azure.ai.openai", None),
        ("api.anthropic.com", "anthropic", None),
        ("api.x.ai", "x_ai", None),
        ("api.mistral.ai", "mistral_ai", None),
        ("api.deepseek.com", "deepseek", None),
        ("api.groq.com", "groq", None),
        ("api.perplexity.ai", "perplexity", None),
        ("api.cerebras.ai", "cerebras", None),
        ("api.z.ai", "z_ai", None),
        ("router.huggingface.co", "huggingface", None),
        ("acme.snowflakecomputing.com", "snowflake", None),
        ("bedrock-runtime.us-east-1.amazonaws.com", "aws.bedrock", "us-east-1"),
        ("bedrock-mantle.us-west-2.api.aws", "aws.bedrock", "us-west-2"),
        ("us-east5-aiplatform.googleapis.com", "gcp.vertex_ai", "us-east5"),
        ("aiplatform.googleapis.com", "gcp.vertex_ai", "global"),
        ("generativelanguage.googleapis.com", "gcp.gemini", None),
        ("API.OpenAI.com.", "openai", None),
    ],
)
def test_vendor_hosts_get_registry_names_and_list_prices(host: str, provider: str, region: object) -> None:
    info = hosts.classify(host, 443)
    assert (info.provider, info.vendor, info.kind, info.region) == (provider, True, "vendor", region)
    assert info.status is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "10.1.2.3", "192.168.0.20", "172.16.5.5",
                                  "169.254.1.1", "fd00::1", "vllm", "ollama.local", "gpu-box.internal", "llm.default.svc",
                                  "::ffff:127.0.0.1", "0.0.0.0"])
def test_loopback_and_private_addresses_are_self_hosted(host: str) -> None:
    info = hosts.classify(host, 8000)
    assert (info.provider, info.vendor, info.kind, info.status) == ("self-hosted", False, "self_hosted", "self_hosted")


@pytest.mark.parametrize("host, name", [("llm.corp-example.com", "corp_example"), ("api.example.co.uk", "example"),
                                        ("gateway.ai.acme.io", "acme"), ("8.8.8.8", "8.8.8.8"), ("openai.evil.com", "evil")])
def test_unknown_public_hosts_get_a_name_from_the_host_and_no_list_prices(host: str, name: str) -> None:
    info = hosts.classify(host)
    assert (info.provider, info.vendor, info.kind, info.status) == (name, False, "unknown_host", "unknown_host")


def test_lookalike_hosts_are_not_the_vendor() -> None:
    assert hosts.classify("api.openai.com.evil.net").kind == "unknown_host"
    assert hosts.classify("notapi.openai.com").kind == "unknown_host"


def test_no_host_means_the_sdk_default_vendor() -> None:
    assert hosts.classify(None) == hosts.HostInfo(None, True, "none")
    assert hosts.provider_for_host(None, default="openai") == "openai"
    assert hosts.provider_for_host("127.0.0.1", 9, default="openai") == "self-hosted"
    assert hosts.provider_for_host("api.groq.com", default="openai") == "groq"


def test_a_registered_stand_in_is_the_vendor_until_unregistered() -> None:
    hosts.register_stand_in("127.0.0.1", 54321)
    try:
        assert hosts.classify("127.0.0.1", 54321).kind == "stand_in"
        assert hosts.classify("127.0.0.1", 54321).vendor is True
        assert hosts.provider_for_host("127.0.0.1", 54321, default="anthropic") == "anthropic"
        assert hosts.classify("127.0.0.1", 54322).kind == "self_hosted"
    finally:
        hosts.unregister_stand_in("127.0.0.1", 54321)
    assert hosts.classify("127.0.0.1", 54321).kind == "self_hosted"


def test_vendor_lookup_by_domain_picks_what_a_scan_of_the_host_list_picks() -> None:
    # The vendor list is looked up per parent domain; a scan in list order is the reference.
    def scan(text: str):
        for suffix, provider in hosts._EXACT_OR_SUFFIX:
            if text == suffix.lstrip(".") or (suffix.startswith(".") and text.endswith(suffix)) or text.endswith("." + suffix):
                return provider
        return None

    names = {"localhost", "127.0.0.1", "com", "x.com", "openai.azure.com", "evil-openai.com"}
    for suffix, _ in hosts._EXACT_OR_SUFFIX:
        bare = suffix.lstrip(".")
        names |= {bare, "x." + bare, "a.b." + bare, "x" + bare, bare + ".evil.com", bare[1:], bare.split(".", 1)[-1]}
    assert len(names) > 400
    for name in sorted(names):
        assert hosts.vendor_for_domain(name) == scan(name), name
    assert hosts.vendor_for_domain("my-resource.openai.azure.com") == "azure.ai.openai"
    assert hosts.vendor_for_domain("eu.api.openai.com") == "openai"
    assert hosts.vendor_for_domain("api.openai.com.evil.com") is None
