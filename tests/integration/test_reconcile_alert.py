"""``tokentrace.reconcile.capture_ratio`` in the real Prometheus, and the shipped alert on it.

Two reconciliations are recorded the way ``tokentrace reconcile --metrics`` records them: one
where tokentrace saw the whole bill and one where it saw 60 % of it. The OpenTelemetry
Prometheus exporter's page is scraped by a real Prometheus loaded with the shipped rules; the
series carry the capture ratios, and ``TokentraceReconcileCaptureLow`` fires for the second only.
"""

from __future__ import annotations

from typing import Iterator, List

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider

from tokentrace.ledger.row import SpendRow
from tokentrace.reconcile import reconcile
from tokentrace.reconcile.metrics import record_capture

from .backends import ALERT_RULES, Prometheus, find_prometheus, wait_until
from .conftest import MetricsEndpoint

DAY0 = 1_796_083_200.0


def _rows(provider: str, tokens: int, usd: float, source: str) -> List[SpendRow]:
    return [SpendRow(DAY0, DAY0 + 86400, provider, "gpt-4o" if provider == "openai" else "claude-sonnet-4-5", "input", tokens, effective_cost_usd=usd, list_cost_usd=usd, source=source)]


@pytest.fixture
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    executable = find_prometheus()
    if executable is None:
        pytest.skip("Prometheus is not installed: run .ci/install-backends.sh (or set TOKENTRACE_PROMETHEUS)")
    endpoint = MetricsEndpoint()
    server = Prometheus(executable, tmp_path_factory.mktemp("prometheus-reconcile"), endpoint.target, [ALERT_RULES]).start()
    try:
        yield server, endpoint
    finally:
        server.stop()
        endpoint.close()


def test_capture_ratio_series_and_alert(prometheus: tuple) -> None:
    server, endpoint = prometheus
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=endpoint.registry)])
    full = reconcile(_rows("openai", 1000, 0.0025, "openai"), _rows("openai", 1000, 0.0025, "ledger"), source="openai", start=DAY0, end=DAY0 + 86400)
    lossy = reconcile(_rows("anthropic", 1000, 0.003, "anthropic"), _rows("anthropic", 600, 0.0018, "ledger"), source="anthropic", start=DAY0, end=DAY0 + 86400)
    assert record_capture(full, provider) == {("openai", "tokens"): 1.0, ("openai", "cost"): 1.0}
    assert record_capture(lossy, provider) == pytest.approx({("anthropic", "tokens"): 0.6, ("anthropic", "cost"): 0.6})
    endpoint.publish()
    server.wait_for_scrapes(2)
    labels = ("tokentrace_reconcile_source", "gen_ai_provider_name", "tokentrace_reconcile_basis")
    values = server.query_values("tokentrace_reconcile_capture_ratio", by=labels)
    assert values == pytest.approx(
        {("openai", "openai", "tokens"): 1.0, ("openai", "openai", "cost"): 1.0, ("anthropic", "anthropic", "tokens"): 0.6, ("anthropic", "anthropic", "cost"): 0.6}
    )

    def firing() -> list:
        alerts = [a for a in server.api("alerts")["alerts"] if a["labels"]["alertname"] == "TokentraceReconcileCaptureLow" and a["state"] == "firing"]
        return alerts

    alerts = wait_until(firing, 20, "Prometheus to fire TokentraceReconcileCaptureLow")
    assert [(a["labels"]["tokentrace_reconcile_source"], a["labels"]["gen_ai_provider_name"]) for a in alerts] == [("anthropic", "anthropic")]
    assert float(alerts[0]["value"]) == pytest.approx(0.6)
    provider.shutdown()
