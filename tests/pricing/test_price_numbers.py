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


def _rated(field: str, value: str) -> str:
    """A prices file with ``value`` in one numeric field, wherever that field lives."""
    if field == "regional_premium":
        return f'[[model]]\nmatch = "my-llama"\ninput = 1\noutput = 1\nregional_premium = {value}\n'
    if field == "above":
        return f'[[model]]\nmatch = "my-llama"\ninput = 1\noutput = 1\ntier = [{{ above = {value}, input = 2, output = 2 }}]\n'
    if field.startswith("tier."):
        return f'[[model]]\nmatch = "my-llama"\ninput = 1\noutput = 1\ntier = [{{ above = 200000, {field[5:]} = {value} }}]\n'
    rates = {"input": "1", "output": "1", field: value}
    return '[[model]]\nmatch = "my-llama"\n' + "".join(f"{k} = {v}\n" for k, v in rates.items())


#: field -> (largest plausible value, unit words its message must use)
FIELDS = {
    **{name: (100_000, "USD per 1M tokens") for name in ("input", "cached_input", "cache_write", "cache_write_long", "output",
                                                       "input_audio", "output_audio", "input_image", "tier.input", "tier.output")},
    "regional_premium": (1000, "percentage added"),
}

toml_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(["nan", "inf", "-inf", "-0.0", "1e300", '"5"', "true"]),
)


@pytest.mark.parametrize("field", sorted(FIELDS))
@given(value=toml_numbers)
def test_every_numeric_field_of_a_prices_file(field: str, value: str) -> None:
    maximum, unit = FIELDS[field]
    try:
        read_text(_rated(field, value), "prices.toml")
    except ConfigError as exc:
        assert unit in str(exc), str(exc)
        number = float(value) if value not in ('"5"', "true") else None
        assert number is None or not (0 <= number <= maximum), str(exc)
        return
    number = float(value)
    assert math.isfinite(number) and 0 <= number <= maximum


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_tier_thresholds_are_positive_whole_token_counts(above: int) -> None:
    try:
        read_text(_rated("above", str(above)), "prices.toml")
    except ConfigError as exc:
        assert above <= 0 and "positive whole number of input tokens" in str(exc)
        return
    assert above > 0
