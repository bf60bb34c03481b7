"""The post-import hook: callbacks run inside the import statement, and the module is unchanged."""

from __future__ import annotations

import importlib
import importlib.resources
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from tokentrace.core import imports


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway package on sys.path, with a data file and a submodule."""
    name = f"tt_hooked_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("VALUE = 41\n")
    (root / "data.txt").write_text("hello")
    (root / "sub.py").write_text(textwrap.dedent("def f():\n    return 'sub'\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_callback_runs_before_the_import_statement_returns(package: str) -> None:
    seen: List[Any] = []
    assert imports.when_imported(package, lambda module: (seen.append(module.VALUE), setattr(module, "VALUE", 42)))
    assert seen == []
    module = importlib.import_module(package)
    assert seen == [41] and module.VALUE == 42  # patched before anyone could read it
    # The module keeps its real loader: package data and submodules work as before.
    assert type(module.__loader__).__name__ == "SourceFileLoader" and module.__spec__.loader is module.__loader__
    assert (importlib.resources.files(package) / "data.txt").read_text() == "hello"
    assert importlib.import_module(f"{package}.sub").f() == "sub"
    assert package not in imports.watched()


def test_already_imported_module_is_left_to_the_caller(package: str) -> None:
    importlib.import_module(package)
    called: List[Any] = []
    assert imports.when_imported(package, called.append) is False
    assert called == []


def test_a_failing_callback_never_fails_the_import(package: str, caplog: pytest.LogCaptureFixture) -> None:
    def broken(module: Any) -> None:
        raise RuntimeError("boom")

    imports.when_imported(package, broken)
    assert importlib.import_module(package).VALUE == 41
    assert "boom" in caplog.text


def test_a_submodule_can_be_watched(package: str) -> None:
    seen: List[str] = []
    imports.when_imported(f"{package}.sub", lambda module: seen.append(module.__name__))
    importlib.import_module(package)
    assert seen == []
    importlib.import_module(f"{package}.sub")
    assert seen == [f"{package}.sub"]
