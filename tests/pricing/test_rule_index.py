"""The genai-prices match rules: the anchor index and the regex-free matcher give the same model
a full scan of the rules with Python's ``re`` gives, for every provider of the shipped data."""

from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Sequence

import pytest

from tokentrace.pricing import matching
from tokentrace.pricing.base_data import BaseData
from tokentrace.pricing.catalog import BASE_DATA, base_text

SUFFIXES = ("", "-20260315", "-2026-03-15", "x", "-latest", ":free", "-v1:0", "@20250101", "-tts", "[fast=true]", "-1")


def _reference(clause: Sequence[Any]) -> Callable[[str], bool]:
    """genai-prices' clause semantics, written plainly (re for every regex)."""
    op, arg = clause[0], clause[1]
    if op == "eq":
        return lambda name: name == arg
    if op == "sw":
        return lambda name: name.startswith(arg)
    if op == "ew":
        return lambda name: name.endswith(arg)
    if op == "in":
        return lambda name: arg in name
    if op == "re":
        pattern = re.compile(arg)
        return lambda name: pattern.search(name) is not None
    parts = [_reference(part) for part in arg]
    if op == "or":
        return lambda name: any(p(name) for p in parts)
    return lambda name: all(p(name) for p in parts)


def _literals(clause: Sequence[Any], out: List[str]) -> None:
    op, arg = clause[0], clause[1]
    if op in ("or", "and"):
        for part in arg:
            _literals(part, out)
    elif op == "re":
        out.append(matching.regex_prefix(arg))
    else:
        out.append(arg)


@pytest.fixture(scope="module")
def base() -> BaseData:
    return BaseData.from_text(base_text(), BASE_DATA)


def test_shipped_data_carries_the_index(base: BaseData) -> None:
    for namespace in base.namespaces():
        space = base._namespaces[namespace]
        assert space._index is not None, namespace
        assert space._index == matching.build_index(space.matches, space.exact), namespace


def test_index_finds_what_a_full_scan_finds_for_every_provider(base: BaseData) -> None:
    checked = 0
    for namespace in base.namespaces():
        space = base._namespaces[namespace]
        reference = [_reference(clause) for clause in space.matches]
        words: List[str] = []
        for clause in space.matches:
            _literals(clause, words)
        names = {word + suffix for word in set(words) if word for suffix in SUFFIXES}
        names |= {word[:-1] for word in words if len(word) > 1} | {"zzz-unknown", "gpt", ""}
        for name in sorted(names):
            if name in space.exact:
                continue
            expected: Optional[int] = next((i for i, accepts in enumerate(reference) if accepts(name)), None)
            found = next((i for i in matching.candidates(space._index, name) if matching.compile_clause(space.matches[i])(name)), None)
            assert found == expected, (namespace, name)
            checked += 1
    assert checked > 35_000


def test_data_without_an_index_builds_it_and_resolves_the_same(base: BaseData) -> None:
    # A copy 'tokentrace prices update' wrote before the index existed has no "index" key.
    text = re.sub(r',"index":\{"contains":.*?"scan":\[[0-9,]*\]\}', "", base_text())
    assert '"index"' not in text
    old = BaseData.from_text(text, "old copy")
    assert old._namespaces["openai"]._index is None
    for namespace, name in [("openai", "gpt-4o-2024-08-06"), ("anthropic", "claude-opus-5-20260101"), ("aws", "us.amazon.nova-pro-v1:0"),
                            ("google", "gemini-2.5-flash-lite-preview-09-2025"), ("google", "gemini-2.5-pro-preview-tts"), ("openai", "nope")]:
        ours, theirs = old.lookup(namespace, name), base.lookup(namespace, name)
        assert (ours and ours.name) == (theirs and theirs.name), (namespace, name)
    assert old._namespaces["openai"]._index == base._namespaces["openai"]._index


@pytest.mark.parametrize(
    "pattern, names",
    [
        (r"^claude-opus-5[-@]\d{8}$", ["claude-opus-5-20260101", "claude-opus-5@20260101", "claude-opus-5-2026010", "claude-opus-5-202601011",
                                       "claude-opus-5_20260101", "claude-opus-5-2026o101", "claude-opus-5-٢٠٢٦٠١٠١", "xclaude-opus-5-20260101"]),
        (r"^gpt-5\.4-\d{4}-\d{2}-\d{2}$", ["gpt-5.4-2026-03-05", "gpt-5x4-2026-03-05", "gpt-5.4-2026-03-5", "gpt-5.4-2026-03-05-x"]),
        (r"^composer-2\.5\[fast=true\]$", ["composer-2.5[fast=true]", "composer-2.5[fast=false]", "composer-2.5[fast=true]x"]),
        (r"^gemini-3\.5-flash-\d", ["gemini-3.5-flash-2", "gemini-3.5-flash-2026", "gemini-3.5-flash-", "gemini-3.5-flash-x1"]),
        (r"^[a-c]{2}z", ["abz", "ccz", "adz", "abzz", "az"]),
    ],
)
def test_fixed_width_matcher_agrees_with_re(pattern: str, names: List[str]) -> None:
    assert isinstance(matching.compile_regex(pattern), matching._FixedMatcher)
    for name in names:
        assert matching.compile_regex(pattern)(name) == (re.search(pattern, name) is not None), name


@pytest.mark.parametrize("pattern", [r"^(?!.*-[tT][tT][sS](?:$|-))", r"^(typesafe/)?jev-1\.14(-\d{8})?$", r"gpt-\d+", r"^a+b", r"^a|b"])
def test_other_patterns_go_to_re(pattern: str) -> None:
    predicate = matching.compile_regex(pattern)
    assert not isinstance(predicate, matching._FixedMatcher)
    for name in ["gpt-4o-tts", "gpt-4o", "typesafe/jev-1.14", "jev-1.14-20260101", "aab", "b", "a"]:
        assert predicate(name) == (re.search(pattern, name) is not None), (pattern, name)


@pytest.mark.parametrize(
    "pattern, prefix",
    [(r"^gpt-4o?", "gpt-4"), (r"^ab+c", "ab"), (r"^a|b", ""), (r"^claude\.x-\d", "claude.x-"), (r"^gpt-5\.4-\d{4}", "gpt-5.4-"),
     (r"gpt", ""), (r"^(?!x)", ""), (r"^o{2}", "")],
)
def test_regex_prefix_is_text_every_match_starts_with(pattern: str, prefix: str) -> None:
    assert matching.regex_prefix(pattern) == prefix


def test_an_equals_the_exact_index_answers_never_reaches_the_scan() -> None:
    rules = [["or", [["eq", "a-1"], ["eq", "a-2"]]], ["and", [["eq", "a-1"], ["in", "x"]]], ["sw", "a-"], ["in", "mid"], ["ew", "tail"]]
    index = matching.build_index(rules, exact={"a-1": 0, "a-2": 0})
    assert index["prefixes"] == {"a-": [2]}
    assert index["contains"] == {"mid": [3], "tail": [4]}
    assert index["scan"] == []
    assert matching.candidates(index, "a-3-mid") == [2, 3]
    assert matching.candidates(index, "b-tail") == [4]
