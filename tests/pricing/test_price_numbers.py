"""Prices and discounts in a prices file: implausible numbers are refused in the right unit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from tokentrace.core.config import ConfigError
from tokentrace.pricing.schema import read_text


def _model(rate: object) -> str:
    return f'[[model]]\nmatch = "my-llama"\ninput = {rate}\noutput = 1\n'


def _discount(percent: object) -> str:
    return f'[[model]]\nmatch = "my-llama"\ninput = 1\noutput = 1\n[[discount]]\nmodel = "my-llama"\npercent = {percent}\n'


def test_price_of_1e300_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'input' = 1e\+300 is not plausible: a number of USD per 1M tokens of at most 100000"):
        read_text(_model("1e300"), "prices.toml")


def test_negative_discount_speaks_percent() -> None:
    with pytest.raises(ConfigError) as raised:
        read_text(_discount(-5), "prices.toml")
    assert "percentage" in str(raised.value) and "USD per 1M" not in str(raised.value)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_any_rate_is_accepted_only_when_plausible(rate: float) -> None:
    text = _model(repr(rate) if math.isfinite(rate) else "nan")
    try:
        price_file = read_text(text, "prices.toml")
    except ConfigError as exc:
        assert rate < 0 or rate > 100_000, str(exc)
        assert "USD per 1M tokens" in str(exc)
        return
    assert 0 <= rate <= 100_000
    assert price_file.models


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_any_discount_is_accepted_only_between_0_and_100(percent: float) -> None:
    try:
        read_text(_discount(repr(percent)), "prices.toml")
    except ConfigError as exc:
        assert not 0 < percent <= 100
        assert "USD per 1M" not in str(exc)
        return
    assert 0 < percent <= 100
