"""The habits CI keeps: ruff and mypy clean, and imports only going down the layers.

The settings are in ``pyproject.toml`` (``[tool.ruff]``, ``[tool.mypy]``, ``[tool.importlinter]``);
the layers are described in the README, *How the code is laid out*. The tools come with the
``test`` extra; where one is not installed its test is skipped with one line saying so (and
fails under ``TOKENTRACE_REQUIRE_BACKENDS=1``, as CI runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> Optional[str]:
    """The tool installed beside the interpreter running the tests, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def _run(command: List[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=540, env={**os.environ, **env}
    )


def _require(name: str) -> str:
    path = _tool(name)
    if path is None:
        message = f"{name} is not installed: pip install -e '.[test]' (CI installs it)"
        if os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") == "1":  # CI: the test extra must have it
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_ruff_is_clean() -> None:
    ruff = _require("ruff")
    done = _run([ruff, "check", "--no-cache", "."])
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    mypy = _require("mypy")
    # The SDKs' own types matter (the adapters call them): check against the interpreter the tests
    # run with, where every extra is installed, whichever environment mypy itself lives in.
    done = _run([mypy, "--python-executable", sys.executable])
    assert done.returncode == 0, done.stdout + done.stderr


def test_imports_only_go_down_the_layers() -> None:
    lint_imports = _require("lint-imports")
    # The checkout's source, not whatever tokentrace an installed package provides.
    pythonpath = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    done = _run([lint_imports, "--no-cache"], PYTHONPATH=pythonpath)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout


def test_every_package_has_its_layer() -> None:
    """A new subpackage joins a layer (or the contract would not check it): no test can miss it."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in settings["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    layered = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    package = ROOT / "src" / "tokentrace"
    modules = {f"tokentrace.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    modules |= {f"tokentrace.{p.stem}" for p in package.glob("*.py") if not p.stem.startswith("_")}
    assert modules == layered, f"not in a layer: {sorted(modules - layered)}; gone: {sorted(layered - modules)}"


def _imports_of_the_root_package(path: Path) -> List[str]:
    """The lines of ``path`` that import the ``tokentrace`` package itself (not a subpackage).

    ``import tokentrace`` or ``from tokentrace import api_name`` reaches the top-level
    ``__init__``, which imports every layer: a lower layer doing it depends on the layers above it
    without the layers contract seeing it (the contract only covers the subpackages).
    """
    import ast

    package = ROOT / "src" / "tokentrace"
    subpackages = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    subpackages |= {p.stem for p in package.glob("*.py")}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            if any(alias.name == "tokentrace" for alias in node.names):
                found.append(f"{path}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module == "tokentrace" and node.level == 0:
            if any(alias.name not in subpackages for alias in node.names):
                found.append(f"{path}:{node.lineno}")
    return found


def test_no_layer_below_the_cli_imports_the_top_level_package() -> None:
    package = ROOT / "src" / "tokentrace"
    allowed = {package / "__init__.py", package / "__main__.py"}
    offenders = [
        line
        for path in sorted(package.rglob("*.py"))
        if path not in allowed and "cli" not in path.relative_to(package).parts[:1]
        for line in _imports_of_the_root_package(path)
    ]
    assert offenders == [], f"import the subpackage that defines it instead: {offenders}"


def test_the_root_import_check_can_fail(tmp_path: Path) -> None:
    """The check above finds both spellings (so its passing means something)."""
    module = tmp_path / "probe.py"
    module.write_text("import tokentrace\nfrom tokentrace import instrument\nfrom tokentrace import core\n")
    assert [line.rsplit(":", 1)[1] for line in _imports_of_the_root_package(module)] == ["1", "2"]
