"""The ledger file, the real Prometheus and the spans in Phoenix agree on the integration workload.

``read_rows(ledger=...)`` and ``read_rows(prometheus=...)`` must give the same spend rows for the
same calls (tokens exactly, money to the cent and in fact to float rounding), and everything
built on them — ``tokentrace report``, ``tokentrace focus`` — the same answers. The ledger keeps
free-form tags that metrics do not carry, so rows are compared on the attribution keys allowed on
metrics; and it keeps estimates of attempts the provider may have billed without answering
(usage source ``attempt``, for reconcile), which are not spend and have no counter.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Dict, List, Tuple

import pytest

from tokentrace.focus import focus_rows
from tokentrace.ledger import SpendRow
from tokentrace.ledger.reader import read_rows
from tokentrace.ledger.row import USAGE_SOURCE_ATTEMPT
from tokentrace.report import build, render_text

from .conftest import BackendRun

METRIC_KEYS = ("team", "feature", "workflow")


def _period(run: BackendRun) -> Tuple[float, float]:
    return run.started - 120, run.prometheus.eval_time + 120  # type: ignore[operator]


@pytest.fixture(scope="module")
def sources(backend_run: BackendRun) -> Dict[str, List[SpendRow]]:
    start, end = _period(backend_run)
    return {
        "ledger": [r for r in read_rows(ledger=backend_run.ledger, start=start, end=end) if r.usage_source != USAGE_SOURCE_ATTEMPT],
        "prometheus": read_rows(prometheus=backend_run.prometheus.url, start=start, end=end),
    }


def _cells(rows: List[SpendRow]) -> Dict[Tuple[Any, ...], List[float]]:
    """Rows summed over time, keyed the way both sources can tell them apart."""
    cells: Dict[Tuple[Any, ...], List[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0, 0])
    for row in rows:
        dims = tuple((k, row.dimensions.get(k, "")) for k in METRIC_KEYS)
        key = (row.provider, row.server_address, row.service_tier, row.request_model, row.model, row.token_type, row.cost_status, row.usage_source, row.rerouted, dims)
        cell = cells[key]
        cell[0] += row.tokens
        cell[1] += row.effective_cost_usd or 0.0
        cell[2] += row.list_cost_usd or 0.0
        cell[3] += row.calls
        cell[4] += row.blocked_calls
        cell[5] += 1 if row.effective_cost_usd is None else 0
    return dict(cells)


def _spans_usd(run: BackendRun, key: Any = None) -> Dict[Any, float]:
    parts: Dict[Any, List[float]] = defaultdict(list)
    for span in run.phoenix_spans():
        attributes = span["attributes"]
        if "gen_ai.provider.name" in attributes and "tokentrace.cost.usd" in attributes:
            parts[key(attributes) if key else ()].append(attributes["tokentrace.cost.usd"])
    return {k: math.fsum(v) for k, v in parts.items()}


def test_total_and_team_spend_agree_to_the_cent(backend_run: BackendRun, sources) -> None:
    spans = _spans_usd(backend_run)[()]
    by_team_spans = _spans_usd(backend_run, lambda a: a.get("tokentrace.team", ""))
    for name, rows in sources.items():
        total = math.fsum(r.effective_cost_usd or 0.0 for r in rows)
        assert round(total * 100) == round(spans * 100), name
        assert total == pytest.approx(spans, rel=1e-9), name
        by_team: Dict[str, float] = defaultdict(float)
        for row in rows:
            by_team[row.dimensions.get("team", "")] += row.effective_cost_usd or 0.0
        by_team = {k: v for k, v in by_team.items() if v}
        assert {k: round(v * 100) for k, v in by_team.items()} == {k: round(v * 100) for k, v in by_team_spans.items()}, name
        assert by_team == pytest.approx(by_team_spans, rel=1e-9, abs=1e-12), name
    assert sum(r.calls for r in sources["ledger"]) == len([s for s in backend_run.phoenix_spans() if "gen_ai.provider.name" in s["attributes"]])


def test_ledger_and_prometheus_rows_are_the_same(sources) -> None:
    ledger, prometheus = _cells(sources["ledger"]), _cells(sources["prometheus"])
    assert set(ledger) == set(prometheus)
    for key, (tokens, effective, listed, calls, blocked, unpriced) in ledger.items():
        other = prometheus[key]
        assert (tokens, calls, blocked) == (other[0], other[3], other[4]), key
        assert effective == pytest.approx(other[1], rel=1e-9, abs=1e-12), key
        assert listed == pytest.approx(other[2], rel=1e-9, abs=1e-12), key
        assert bool(unpriced) == bool(other[5]), key
    token_types = {key[5] for key in ledger}
    assert {"input", "cache_read", "cache_write_1h", "output", "reasoning"} <= token_types
    assert any(key[8] for key in ledger)  # a rerouted call
    assert any(key[6] == "unknown_model" for key in ledger)


def test_report_gives_the_same_answers_from_either_source(backend_run: BackendRun, sources) -> None:
    start, end = _period(backend_run)

    def metric_dims(rows: List[SpendRow]) -> List[SpendRow]:
        from dataclasses import replace

        return [replace(r, dimensions={k: v for k, v in r.dimensions.items() if k in METRIC_KEYS}) for r in rows]

    from tokentrace.core.config import Config
    from tokentrace.pricing import load_catalog

    prices = load_catalog(Config())
    texts = {name: render_text(build(metric_dims(rows), start, end, previous=[], prices=prices)) for name, rows in sources.items()}
    assert texts["ledger"] == texts["prometheus"]
    assert "By team" in texts["ledger"] and "Reroutes" in texts["ledger"]

    def focus(rows: List[SpendRow]) -> Dict[Tuple[Any, ...], Dict[str, Any]]:
        return {(r["ChargePeriodStart"], r["SkuPriceId"], r["Tags"], r["x_CostStatus"]): r for r in focus_rows(metric_dims(rows))}

    from_ledger, from_prometheus = focus(sources["ledger"]), focus(sources["prometheus"])
    assert set(from_ledger) == set(from_prometheus)
    for key, record in from_ledger.items():
        other = from_prometheus[key]
        assert record["ConsumedQuantity"] == other["ConsumedQuantity"], key
        assert record["EffectiveCost"] == pytest.approx(other["EffectiveCost"], rel=1e-9, abs=1e-12), key
        assert record["ListCost"] == pytest.approx(other["ListCost"], rel=1e-9, abs=1e-12), key


def test_the_commands_answer_the_same_from_either_source(backend_run: BackendRun, tmp_path, capsys) -> None:
    from datetime import datetime, timezone

    from tokentrace.cli.main import main

    start, end = _period(backend_run)

    def moment(t: float) -> str:
        return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")

    period = ["--start", moment(start), "--end", moment(end)]
    outputs = {}
    for name, source in (("ledger", ["--ledger", str(backend_run.ledger)]), ("prometheus", ["--prometheus", backend_run.prometheus.url])):
        assert main(["report", *source, *period]) == 0
        report = capsys.readouterr().out
        focus = tmp_path / f"{name}.csv"
        assert main(["focus", *source, *period, "-o", str(focus)]) == 0
        capsys.readouterr()
        outputs[name] = (report, focus.read_text().count("\n"))
    assert outputs["ledger"] == outputs["prometheus"]
    assert "By team" in outputs["ledger"][0] and outputs["ledger"][1] > 10
