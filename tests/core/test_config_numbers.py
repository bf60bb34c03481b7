"""Numbers in the configuration: hypothesis over every numeric option path."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, strategies as st

from tokentrace.budgets.errors import BudgetConfigError
from tokentrace.budgets.spec import load_specs
from tokentrace.core.config import MAX_CONFIG_INT, ConfigError, build_config

numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
)
#: What an environment variable can hold: no NUL byte, no lone surrogate (os.environ refuses them).
environment_numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
    st.booleans(),
)


@given(numbers)
def test_metric_value_limit_from_code_or_environment(raw: Any) -> None:
    for options, environ in (({"metric_value_limit": raw}, {}), ({}, {"TOKENTRACE_METRIC_VALUE_LIMIT": str(raw)})):
        try:
            config = build_config({**options, "strict": True}, environ=environ)
        except ConfigError as exc:
            assert "TOKENTRACE_METRIC_VALUE_LIMIT" in str(exc) or "metric_value_limit" in str(exc)
            continue
        value = config.metric_value_limit
        assert isinstance(value, int) and 0 < value <= MAX_CONFIG_INT


@given(usd=numbers, tokens=numbers)
def test_budget_limits(usd: Any, tokens: Any) -> None:
    try:
        (spec,) = load_specs([{"name": "b", "usd": usd, "tokens": tokens}], None)
    except BudgetConfigError as exc:
        assert "'b'" in str(exc) or "#1" in str(exc)
        return
    if spec.usd is not None:
        assert math.isfinite(spec.usd) and 0 <= spec.usd <= 1e9
        assert spec.limit_nano_usd is not None and spec.limit_nano_usd < 2**63
    if spec.tokens is not None:
        assert 0 <= spec.tokens <= 1e15


def test_an_absurd_budget_limit_says_why() -> None:
    with pytest.raises(BudgetConfigError, match="not plausible"):
        load_specs([{"name": "b", "usd": 1e300}], None)


@given(environment_numbers)
def test_budget_lease_seconds_from_the_environment(raw: Any) -> None:
    import logging
    import os

    from tokentrace.budgets import store

    old = os.environ.get("TOKENTRACE_BUDGET_LEASE_S")
    records: list = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("tokentrace").addHandler(handler)
    os.environ["TOKENTRACE_BUDGET_LEASE_S"] = str(raw)
    try:
        value = store._lease_from_environment()
    finally:
        logging.getLogger("tokentrace").removeHandler(handler)
        if old is None:
            del os.environ["TOKENTRACE_BUDGET_LEASE_S"]
        else:
            os.environ["TOKENTRACE_BUDGET_LEASE_S"] = old
    assert isinstance(value, int) and 1 <= value <= 3600
    text = str(raw).strip()
    try:
        whole = 1 <= int(text) <= 3600
    except ValueError:
        whole = False
    assert value == (int(text) if whole else 60) or not text
    assert bool(records) == (bool(text) and not whole)  # a bad value says so; a good one is silent
