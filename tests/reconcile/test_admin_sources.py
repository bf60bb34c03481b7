"""The OpenAI and Anthropic admin-API sources against the fake admin endpoints, over real HTTP.

The fake vendors bill from the server's request log: calls made through the real SDKs are what
the usage and cost reports then show, with pagination, bucket widths and group-by as documented.
"""

from __future__ import annotations

import time
import urllib.request
from typing import Any, Dict, Iterator, List

import anthropic
import openai
import pytest

from tokentrace.reconcile.sources import SourceError, load
from tokentrace.reconcile.sources.anthropic_admin import cents_to_usd
from tokentrace.reconcile.sources.openai_admin import parse_line_item
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage
from tokentrace.testing.billing import ANTHROPIC_ADMIN_KEY, OPENAI_ADMIN_KEY, api_key_id, billing_for

DAY = 86400
ANTHROPIC_USAGE = {
    "input_tokens": 120,
    "output_tokens": 80,
    "cache_read_input_tokens": 3000,
    "cache_creation_input_tokens": 500,
    "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 100},
}


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


@pytest.fixture
def admin_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_ADMIN_KEY)
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_ADMIN_KEY)


def _window(days_back: int = 2) -> tuple:
    now = int(time.time())
    return now - now % DAY - days_back * DAY, now - now % DAY + DAY


def _by_type(rows: List[Any]) -> Dict[str, int]:
    totals: Dict[str, int] = {}
    for row in rows:
        totals[row.token_type] = totals.get(row.token_type, 0) + row.tokens
    return {k: v for k, v in totals.items() if v}


def test_openai_usage_and_costs_from_sdk_calls(server: ProviderServer, admin_keys: None) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-proj-app", project="proj_app")
    for _ in range(2):
        server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1024)))
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 40, "total_tokens": 40}))
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    billing_for(server).bill_requests(server.requests)
    start, end = _window()
    data = load("openai", start=start, end=end, base_url=server.openai_url)
    usage = [r for r in data.rows if r.tokens]
    chat = [r for r in usage if r.model == "gpt-4o-2024-08-06"]
    assert _by_type(chat) == {"input": 2 * 982, "cache_read": 2 * 1024, "output": 600}
    assert {r.calls for r in chat} == {2}
    assert all(r.dimensions["project_id"] == "proj_app" and r.dimensions["api_key_id"] == api_key_id("openai", "sk-proj-app") for r in chat)
    assert _by_type([r for r in usage if r.model == "text-embedding-3-small"]) == {"input": 40}
    costs = {r.token_type: r.effective_cost_usd for r in data.rows if r.effective_cost_usd is not None and r.model == "gpt-4o-2024-08-06"}
    # 1964 * 2.50 + 2048 * 1.25 + 600 * 10.00 = 4910 + 2560 + 6000 micro-USD
    assert costs == pytest.approx({"input": 0.004910, "cache_read": 0.002560, "output": 0.006})
    sent = [r for r in server.requests if r.method == "GET"]
    assert {r.path for r in sent} == {"/v1/organization/usage/completions", "/v1/organization/usage/embeddings", "/v1/organization/costs"}
    assert all(r.headers["authorization"] == f"Bearer {OPENAI_ADMIN_KEY}" for r in sent)
    usage_query = next(r.query for r in sent if r.path.endswith("/completions"))
    assert usage_query["group_by[]"] == ["model", "project_id", "api_key_id", "batch", "service_tier"]
    assert usage_query["bucket_width"] == ["1d"]


def test_openai_pages_are_followed(server: ProviderServer, admin_keys: None) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    server.enqueue(ResponsePlan(usage=openai_usage(100, 10)))
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    billing = billing_for(server)
    call = billing.bill_requests(server.requests)[0]
    billing.calls.append(call.moved(-35 * DAY))  # 35 days ago: the 31-bucket page limit splits the window
    start, end = _window(40)
    data = load("openai", start=start, end=end, base_url=server.openai_url)
    assert _by_type([r for r in data.rows if r.tokens]) == {"input": 200, "output": 20}
    usage_pages = [r for r in server.requests if r.path.endswith("/usage/completions")]
    assert len(usage_pages) == 2
    assert "page" not in usage_pages[0].query and usage_pages[1].query["page"][0].startswith("page_")


def test_openai_hourly_buckets(server: ProviderServer, admin_keys: None) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    server.enqueue(ResponsePlan(usage=openai_usage(100, 10)))
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    billing_for(server).bill_requests(server.requests)
    now = int(time.time())
    data = load("openai", start=now - 3 * 3600, end=now + 60, base_url=server.openai_url, bucket_width="1h")
    hourly = [r for r in data.rows if r.tokens and r.source == "openai" and r.period_end - r.period_start == 3600]
    assert _by_type(hourly) == {"input": 100, "output": 10}


def test_anthropic_usage_and_cost_report_from_sdk_calls(server: ProviderServer, admin_keys: None) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-app")
    billing = billing_for(server)
    billing.workspaces[api_key_id("anthropic", "sk-ant-app")] = "wrkspc_support"
    server.enqueue(ResponsePlan(usage=ANTHROPIC_USAGE))
    client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    billing.bill_requests(server.requests)
    start, end = _window()
    data = load("anthropic", start=start, end=end, base_url=server.url)
    usage = [r for r in data.rows if r.tokens]
    assert _by_type(usage) == {"input": 120, "cache_read": 3000, "cache_write_5m": 400, "cache_write_1h": 100, "output": 80}
    assert {r.model for r in usage} == {"claude-sonnet-4-5-20250929"}
    assert all(r.dimensions["workspace_id"] == "wrkspc_support" for r in data.rows)
    costs = {r.token_type: r.effective_cost_usd for r in data.rows if r.effective_cost_usd is not None}
    # Sonnet 4.5 per 1M: input 3, cache read 0.30, 5 m write 3.75, 1 h write 6, output 15
    assert costs == pytest.approx({"input": 120 * 3e-6, "cache_read": 3000 * 0.3e-6, "cache_write_5m": 400 * 3.75e-6, "cache_write_1h": 100 * 6e-6, "output": 80 * 15e-6})
    report = next(r for r in server.requests if r.path.endswith("/cost_report"))
    assert report.headers["x-api-key"] == ANTHROPIC_ADMIN_KEY and report.headers["anthropic-version"] == "2023-06-01"
    assert report.query["starting_at"][0].endswith("T00:00:00Z")


def test_anthropic_cost_amounts_are_cents_as_decimal_strings(server: ProviderServer) -> None:
    assert cents_to_usd("123.45") == pytest.approx(1.2345)
    with pytest.raises(SourceError, match="decimal string of cents"):
        cents_to_usd("12,3")


def test_openai_line_items() -> None:
    assert parse_line_item("gpt-4o-2024-08-06, input") == ("gpt-4o-2024-08-06", "input")
    assert parse_line_item("gpt-4o-mini-2024-07-18, cached input") == ("gpt-4o-mini-2024-07-18", "cache_read")
    assert parse_line_item("o3, output") == ("o3", "output")
    assert parse_line_item("Image models") is None
    assert parse_line_item("web search tool calls, gpt-4o") is None


@pytest.mark.parametrize("vendor,base", [("openai", "openai_url"), ("anthropic", "url")])
def test_a_wrong_admin_key_is_a_clear_error_that_never_shows_the_key(server: ProviderServer, monkeypatch: pytest.MonkeyPatch, vendor: str, base: str) -> None:
    secret = "sk-admin-WRONG-secret-value-9876543210"
    monkeypatch.setenv("OPENAI_ADMIN_KEY" if vendor == "openai" else "ANTHROPIC_ADMIN_API_KEY", secret)
    start, end = _window()
    with pytest.raises(SourceError) as raised:
        load(vendor, start=start, end=end, base_url=getattr(server, base))
    message = str(raised.value)
    assert "HTTP 401" in message and "admin" in message
    assert secret not in message and "9876543210" not in message


def test_no_admin_key_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    with pytest.raises(SourceError, match="set OPENAI_ADMIN_KEY"):
        load("openai", start=0, end=DAY)


def test_fake_admin_endpoints_validate_like_the_api(server: ProviderServer) -> None:
    def get(path: str, headers: Dict[str, str]) -> int:
        request = urllib.request.Request(server.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    bearer = {"Authorization": f"Bearer {OPENAI_ADMIN_KEY}"}
    assert get("/v1/organization/usage/completions?start_time=0&end_time=86400", bearer) == 200
    assert get("/v1/organization/usage/completions?end_time=86400", bearer) == 400
    assert get("/v1/organization/usage/completions?start_time=0&bucket_width=2d", bearer) == 400
    assert get("/v1/organization/usage/completions?start_time=0&group_by[]=team", bearer) == 400
    assert get("/v1/organization/costs?start_time=0&bucket_width=1h", bearer) == 400
    assert get("/v1/organization/costs?start_time=0", {"Authorization": "Bearer sk-normal-key"}) == 401
    admin = {"x-api-key": ANTHROPIC_ADMIN_KEY}
    assert get("/v1/organizations/usage_report/messages?starting_at=2026-11-01T00:00:00Z", admin) == 200
    assert get("/v1/organizations/usage_report/messages?starting_at=yesterday", admin) == 400
    assert get("/v1/organizations/cost_report?starting_at=2026-11-01T00:00:00Z&limit=32", admin) == 400


def test_anthropic_priority_tier_has_no_cost_and_says_so(server: ProviderServer, admin_keys: None) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-app")
    server.enqueue(ResponsePlan(usage=ANTHROPIC_USAGE))
    client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}], extra_body={"service_tier": "priority"})
    billing_for(server).bill_requests(server.requests)
    start, end = _window()
    data = load("anthropic", start=start, end=end, base_url=server.url)
    assert _by_type([r for r in data.rows if r.tokens])["output"] == 80
    assert not [r for r in data.rows if r.effective_cost_usd is not None]
    assert any("3,700 priority-tier tokens have no cost" in note for note in data.all_notes())
