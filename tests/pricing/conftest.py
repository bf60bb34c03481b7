"""Helpers for the pricing tests: a catalog built from the shipped data, and call records."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Callable, Optional

import pytest

from tokentrace.core.config import Config
from tokentrace.pricing import load_catalog
from tokentrace.pricing.base import CostResult
from tokentrace.pricing.catalog import UPDATE_PATH_ENV, Catalog
from tokentrace.records.call import CallRecord, Usage


def ts(day: str) -> float:
    """Unix time of ``day`` (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS) in UTC."""
    return float(calendar.timegm(dt.datetime.fromisoformat(day).timetuple()))


def record(provider: str, model: Optional[str], *, response_model: Optional[str] = None, service_tier: Optional[str] = None,
           batch: bool = False, provider_cost_usd: Optional[float] = None, usage: bool = True, **counts: int) -> CallRecord:
    return CallRecord(
        provider=provider,
        operation="chat",
        request_model=model,
        response_model=response_model,
        service_tier=service_tier,
        batch=batch,
        provider_cost_usd=provider_cost_usd,
        usage=Usage(**counts) if usage else None,
    )


@pytest.fixture(autouse=True)
def _no_fetched_catalog(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests price with the shipped catalog, never a copy a developer fetched into ~/.cache."""
    monkeypatch.setenv(UPDATE_PATH_ENV, str(tmp_path / "no-fetched-prices.toml"))


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(Config())


@pytest.fixture
def price(catalog: Catalog) -> Callable[..., CostResult]:
    def _price(provider: str, model: Optional[str], at: Optional[str] = "2026-11-01", **kw: Any) -> CostResult:
        return catalog.cost(record(provider, model, **kw), ts(at) if at else None)

    return _price
