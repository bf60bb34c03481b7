"""Spend rows from tokentrace's counters in Prometheus (or Mimir, Thanos, VictoriaMetrics).

A fleet already sends ``tokentrace.tokens``, ``tokentrace.cost`` and ``tokentrace.calls`` to a
Prometheus-API store; this reader turns them into the same :class:`SpendRow` rows the ledger
file holds, so report, focus and reconcile answer the same for either source.

How, and where it differs from the ledger:

* Each counter is read with ``query_range`` at a step of ``bucket`` seconds (longer for long
  periods, to stay under the API's 11,000 points a series); the increase of a series between two
  steps is its spend in that bucket, a counter reset (a restarted process) counting from zero. A
  series that first appears inside the period counts from zero too (tokentrace's counters start
  at zero). Buckets are therefore as fine as the steps, and a call lands in the bucket in which
  it was *scraped* — day totals match the ledger's, minute totals may shift by a scrape.
* The token types come from ``gen_ai.token.type``: uncached input is ``input`` minus
  ``cache_read`` and ``cache_write``, 5-minute writes are ``cache_write`` minus ``cache_write_1h``.
* The cost counter holds each series' effective cost; it is split over the token types by the
  price catalog's rates for that model (the ledger prices each call on its own, so per-type
  splits can differ only for models with long-context tiers, or across a price change inside one
  bucket; totals never differ). List cost is derived the same way.
* Cost status, reroutes and budget blocks come from ``tokentrace.calls`` (a blocked call is one
  with a tokentrace ``error.type``); dimensions are the attribution labels (metrics carry only
  the allow-listed keys, so free-form tags the ledger keeps are absent here).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from ..pricing.base import PART_TOKEN_TYPES
from ..records.call import CallRecord, Usage
from .costs import split
from .row import SpendRow
from .store import LedgerError

#: Series names as the OpenTelemetry Prometheus exporter writes tokentrace's counters.
METRIC_NAMES: Dict[str, str] = {
    "tokens": "tokentrace_tokens_total",
    "cost": "tokentrace_cost_USD_total",
    "calls": "tokentrace_calls_total",
}
#: Points per series Prometheus answers at most (its limit is 11,000).
MAX_POINTS = 10_000
#: Labels Prometheus or the exporter add that say nothing about the spend.
_IGNORED = frozenset(("job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url", "__name__"))
_NOT_DIMENSIONS = frozenset(("tokentrace_cost_status", "tokentrace_model_rerouted", "tokentrace_usage_source", "tokentrace_service_tier"))
_PRICED = ("priced", "provider_reported")

Labels = Tuple[Tuple[str, str], ...]


class PrometheusError(LedgerError):
    """The Prometheus API could not be read; the message says which URL and why."""


def read_prometheus(
    url: str,
    start: float,
    end: float,
    *,
    bucket: int = 60,
    selector: str = "",
    prices: Any = None,
    progress: Optional[Callable[[str], None]] = None,
    timeout: float = 60.0,
    names: Optional[Mapping[str, str]] = None,
) -> List[SpendRow]:
    """The spend rows of ``[start, end)`` from the Prometheus API at ``url``.

    ``selector`` narrows the series (PromQL label matchers such as ``{job="checkout"}``);
    ``prices`` is the catalog that splits costs over token types (default: the one
    ``instrument()`` would load, ``TOKENTRACE_PRICES`` included).
    """
    names = {**METRIC_NAMES, **(names or {})}
    step = max(int(bucket), math.ceil((end - start) / MAX_POINTS))
    first = math.floor(start / step) * step
    last = math.ceil(end / step) * step
    if prices is None:
        from ..core.config import build_config
        from ..pricing import load_catalog

        prices = load_catalog(build_config({}))
    series: Dict[str, Dict[Tuple[float, Labels], float]] = {}
    for kind in ("tokens", "cost", "calls"):
        if progress:
            progress(f"querying {names[kind]} from {url}")
        series[kind] = _increases(url, f"{names[kind]}{selector}", first, last, step, timeout)
    rows = _rows(series, step, prices)
    return [r for r in rows if start <= r.period_start < end]


# -- reading the counters ---------------------------------------------------------------------------


def _query_range(url: str, query: str, start: float, end: float, step: int, timeout: float) -> List[Dict[str, Any]]:
    params = urllib.parse.urlencode({"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)})
    target = f"{url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            reply = json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise PrometheusError(f"Prometheus at {url} rejected the query {query!r}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PrometheusError(f"cannot read the Prometheus API at {url} ({exc}); is the URL right (e.g. http://localhost:9090)?") from None
    if reply.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url} answered {reply.get('error') or reply}")
    return list(reply["data"]["result"])


def _increases(url: str, query: str, start: float, end: float, step: int, timeout: float) -> Dict[Tuple[float, Labels], float]:
    """(bucket start, labels) -> increase in that bucket, summed over instances."""
    found: Dict[Tuple[float, Labels], float] = defaultdict(float)
    for result in _query_range(url, query, start, end, step, timeout):
        labels: Labels = tuple(sorted((k, v) for k, v in result["metric"].items() if k not in _IGNORED))
        previous: Optional[float] = None
        for index, (timestamp, text) in enumerate(result["values"]):
            value = float(text)
            at = float(timestamp)
            if previous is None:
                # The series' value at the period's first step is the baseline; one that appears
                # later was born inside the period and counts from zero.
                increase = 0.0 if (index == 0 and at <= start) else value
            else:
                increase = value - previous if value >= previous else value
            previous = value
            if increase:
                found[(at - step, labels)] += increase
    return found


# -- building rows ----------------------------------------------------------------------------------


def _rows(series: Dict[str, Dict[Tuple[float, Labels], float]], step: int, prices: Any) -> List[SpendRow]:
    tokens: Dict[Tuple[float, Labels], Dict[str, float]] = defaultdict(dict)
    for (at, labels), amount in series["tokens"].items():
        plain = tuple((k, v) for k, v in labels if k != "gen_ai_token_type")
        kind = dict(labels).get("gen_ai_token_type", "")
        tokens[(at, plain)][kind] = tokens[(at, plain)].get(kind, 0.0) + amount
    costs: Dict[Tuple[float, Labels], float] = defaultdict(float)
    for (at, labels), amount in series["cost"].items():
        costs[(at, labels)] += amount
    calls: Dict[Tuple[float, Labels], Dict[Tuple[str, bool], float]] = defaultdict(lambda: defaultdict(float))
    for (at, labels), amount in series["calls"].items():
        label_values = dict(labels)
        status = label_values.get("tokentrace_cost_status", "")
        rerouted = label_values.get("tokentrace_model_rerouted", "false") == "true"
        plain = tuple((k, v) for k, v in labels if k not in ("tokentrace_cost_status", "tokentrace_model_rerouted"))
        calls[(at, plain)][(status, rerouted)] += amount
    cells: Dict[Tuple[Any, ...], List[Any]] = {}
    for key in set(tokens) | set(calls):
        at, labels = key
        for row_key, values in _series_rows(at, step, labels, tokens.get(key, {}), costs.get(key), calls.get(key, {}), prices):
            cell = cells.get(row_key)
            if cell is None:
                cells[row_key] = values
            else:
                cell[0] += values[0]
                for index in (1, 2):
                    if values[index] is not None:
                        cell[index] = values[index] if cell[index] is None else cell[index] + values[index]
                cell[3] += values[3]
                cell[4] += values[4]
    rows = []
    for (at, provider, server, tier, request_model, model, token_type, status, source, rerouted, dims), values in cells.items():
        rows.append(
            SpendRow(
                period_start=at,
                period_end=at + step,
                provider=provider,
                model=model,
                token_type=token_type,
                tokens=int(round(values[0])),
                list_cost_usd=values[1],
                effective_cost_usd=values[2],
                request_model=request_model or None,
                server_address=server or None,
                service_tier=tier or None,
                cost_status=status or None,
                usage_source=source or None,
                rerouted=rerouted,
                calls=int(round(values[3])),
                blocked_calls=int(round(values[4])),
                dimensions=dict(dims),
                source="prometheus",
            )
        )
    rows.sort(key=lambda r: (r.period_start, r.provider, r.model, r.token_type))
    return rows


def _dimensions(labels: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    dims = []
    for name, value in labels.items():
        if not name.startswith("tokentrace_") or name in _NOT_DIMENSIONS:
            continue
        key = name[len("tokentrace_"):]
        if key.startswith("tag_"):
            key = "tag." + key[len("tag_"):]
        dims.append((key, value))
    return tuple(sorted(dims))


def _series_rows(
    at: float,
    step: int,
    labels: Labels,
    tokens: Dict[str, float],
    cost: Optional[float],
    calls: Dict[Tuple[str, bool], float],
    prices: Any,
) -> Iterable[Tuple[Tuple[Any, ...], List[Any]]]:
    values = dict(labels)
    provider = values.get("gen_ai_provider_name", "")
    request_model = values.get("gen_ai_request_model", "")
    model = values.get("gen_ai_response_model") or request_model
    tier = values.get("tokentrace_service_tier", "")
    source = values.get("tokentrace_usage_source", "")
    blocked = values.get("error_type", "").startswith("tokentrace.")
    base = (at, provider, values.get("server_address", ""), tier, request_model, model)
    dims = _dimensions(values)
    rerouted = any(r for (_, r), n in calls.items() if n)
    if tokens:
        status = _token_status(calls, cost)
        counts = _ledger_tokens(tokens)
        listed, effective = (None, None)
        if status in _PRICED:
            listed, effective = _split(cost or 0.0, counts, provider, values.get("server_address", ""), request_model, model, tier, at + step / 2, prices)
        token_calls = sum(n for (s, _), n in calls.items() if s == status)
        for index, token_type in enumerate(PART_TOKEN_TYPES):
            count = counts[token_type]
            if count or index == 0:
                yield (
                    base + (token_type, status, source, rerouted, dims),
                    [count, None if listed is None else listed[index], None if effective is None else effective[index], token_calls if index == 0 else 0, (token_calls if blocked else 0) if index == 0 else 0],
                )
        if counts["reasoning"]:
            priced = effective is not None
            yield (base + ("reasoning", status, source, rerouted, dims), [counts["reasoning"], 0.0 if priced else None, 0.0 if priced else None, 0, 0])
        others = {(s, r): n for (s, r), n in calls.items() if s != status and n}
    else:
        others = {(s, r): n for (s, r), n in calls.items() if n}
    for (status_, rerouted_), other_calls in others.items():
        yield (base + ("input", status_, source, rerouted_, dims), [0, None, None, other_calls, other_calls if blocked else 0])


def _token_status(calls: Dict[Tuple[str, bool], float], cost: Optional[float]) -> str:
    with_usage = {s: n for (s, _), n in calls.items() if s not in ("no_usage", "deferred") and n}
    if with_usage:
        return max(with_usage, key=lambda s: with_usage[s])
    return "priced" if cost else "unknown_model"


def _ledger_tokens(tokens: Dict[str, float]) -> Dict[str, int]:
    total_in = tokens.get("input", 0.0)
    read = tokens.get("cache_read", 0.0)
    writes = tokens.get("cache_write", 0.0)
    long_writes = min(tokens.get("cache_write_1h", 0.0), writes)
    return {
        "input": int(round(max(0.0, total_in - read - writes))),
        "cache_read": int(round(read)),
        "cache_write_5m": int(round(writes - long_writes)),
        "cache_write_1h": int(round(long_writes)),
        "output": int(round(tokens.get("output", 0.0))),
        "reasoning": int(round(tokens.get("reasoning", 0.0))),
    }


def _split(
    total: float,
    counts: Dict[str, int],
    provider: str,
    server: str,
    request_model: str,
    model: str,
    tier: str,
    at: float,
    prices: Any,
) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(list, effective) per billed token type: ``total`` split by the catalog's rates for ``model``."""
    parts = None
    cost_parts = getattr(prices, "cost_parts", None)
    if cost_parts is not None:
        record = CallRecord(provider=provider, operation="chat", request_model=request_model or None, response_model=model or None)
        record.service_tier = tier or None
        record.server_address = server or None
        writes = counts["cache_write_5m"] + counts["cache_write_1h"]
        record.usage = Usage(
            input_tokens=counts["input"] + counts["cache_read"] + writes,
            output_tokens=counts["output"],
            cache_read_tokens=counts["cache_read"],
            cache_write_tokens=writes,
            cache_write_long_tokens=counts["cache_write_1h"],
            reasoning_tokens=counts["reasoning"],
        )
        try:
            parts = cost_parts(record, at)
            if parts is None and record.server_address:
                # Metrics carry no server.port, which a host's price eligibility may need: the
                # split only needs the model's rates, so take them without the host.
                record.server_address = None
                parts = cost_parts(record, at)
        except Exception:
            parts = None
    return split(total, parts, tuple(counts[t] for t in PART_TOKEN_TYPES))
