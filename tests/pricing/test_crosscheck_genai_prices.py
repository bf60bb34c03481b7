"""Cross-check tokentrace's prices against the installed genai-prices (Pydantic, MIT) over every model it prices.

genai-prices is tokentrace's base data (converted into ``data/genai_prices.json``); tokentrace's
curated overlay corrects it in a few places. This test prices every genai-prices model on several
usage shapes, in every variant either side knows, on every date a price changes, both ways, and
requires every difference to carry a reason; the generated list of them (``data/DISAGREEMENTS.md``)
must be current. It fails when either side changes a price without the list being regenerated
(``tokentrace prices update --output src/tokentrace/pricing/data/genai_prices.json --report
src/tokentrace/pricing/data/DISAGREEMENTS.md``).
"""

from __future__ import annotations

import warnings
from importlib import resources
from importlib.metadata import version

import pytest

from tokentrace.pricing import crosscheck, genai_import
from tokentrace.pricing.catalog import base_text

genai_prices = pytest.importorskip("genai_prices")
SHIPPED_VERSION = base_text().split('"version":"', 1)[1].split('"', 1)[0]
same_version = pytest.mark.skipif(version("genai-prices") != SHIPPED_VERSION,
                                  reason=f"installed genai-prices {version('genai-prices')} is not the converted {SHIPPED_VERSION}")


@pytest.fixture(scope="module")
def checks(catalog_module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(crosscheck.compare(catalog_module))


@pytest.fixture(scope="module")
def catalog_module():
    import os

    from tokentrace.core.config import Config
    from tokentrace.pricing import load_catalog
    from tokentrace.pricing.catalog import UPDATE_PATH_ENV

    saved = os.environ.pop(UPDATE_PATH_ENV, None)
    os.environ[UPDATE_PATH_ENV] = "/nonexistent/tokentrace-test-prices.json"
    try:
        return load_catalog(Config())
    finally:
        os.environ.pop(UPDATE_PATH_ENV)
        if saved is not None:
            os.environ[UPDATE_PATH_ENV] = saved


@same_version
def test_the_shipped_data_is_the_conversion_of_the_installed_genai_prices() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert genai_import.dumps(genai_import.build()) == base_text()


def test_every_genai_prices_model_is_priced_here(checks) -> None:
    from genai_prices.data import providers

    checked = {(ns, model) for ns, model, _ in checks}
    every = {(p.id, m.id) for p in providers for m in p.models}
    assert every <= checked
    unpriced = sorted({(d.namespace, d.model) for _, _, d in checks if d is not None and d.ours is None})
    assert not unpriced, unpriced


def test_every_difference_has_a_reason(checks) -> None:
    unexplained = [d for _, _, d in checks if d is not None and not d.reason]
    assert not unexplained, unexplained[:20]


def test_most_checks_agree_exactly(checks) -> None:
    differences = [d for _, _, d in checks if d is not None]
    standard = [d for d in differences if d.variant == "standard"]
    # Differences are mostly batch/flex/priority rates genai-prices lacks; standard prices differ
    # only where tokentrace's overlay names the model.
    assert len(checks) > 10_000
    assert len(standard) < 0.02 * len(checks)


@same_version
def test_the_disagreements_list_is_current(checks) -> None:
    from genai_prices.data import providers

    models = sum(len(p.models) for p in providers)
    expected = crosscheck.report([d for _, _, d in checks if d is not None], version("genai-prices"), len(checks), models)
    shipped = resources.files("tokentrace.pricing").joinpath("data/DISAGREEMENTS.md").read_text(encoding="utf-8")
    assert shipped == expected, "regenerate: tokentrace prices update --output ... --report src/tokentrace/pricing/data/DISAGREEMENTS.md"


@pytest.mark.parametrize(
    "namespace, model, variant, reason_part",
    [
        ("anthropic", "claude-3-haiku", "batch", "Message Batches cost 50%"),
        ("openai", "text-embedding-3-small", "batch", "Batch API"),
        ("google", "gemini-2.0-flash", "batch", "Gemini Batch Mode"),
        ("anthropic", "claude-sonnet-4-0", "standard", ">200k tier"),
        ("openai", "o3", "standard", "o3 launched at 10 / 2.5 cached / 40"),
        ("deepseek", "deepseek-chat", "standard", "deepseek-chat"),
    ],
)
def test_the_measured_disagreements_are_listed_with_their_reason(checks, namespace, model, variant, reason_part) -> None:
    found = [d for ns, m, d in checks if d is not None and (ns, m, d.variant) == (namespace, model, variant)]
    assert found and all(reason_part in (d.reason or "") for d in found), found[:3]
