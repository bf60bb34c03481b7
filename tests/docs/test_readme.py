"""The README's code runs as pasted: every ``python`` and ``bash`` block, unless marked a fragment.

A block whose first line starts with ``# fragment`` is a piece of a larger program (the reader
sees that marker); every other block is written to a file and run, offline, with the SDKs'
own base-URL variables pointing at the local provider server: the real-client code of the
README, unchanged, against a stand-in for the vendors. TOML blocks must parse, and the table of
contents must list every section in order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from tokentrace.testing import ProviderServer

README = Path(__file__).resolve().parents[2] / "README.md"
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(language: str) -> List[Tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if match.group(1) == language:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(2)))
    return found


def runnable(language: str) -> List[Tuple[int, str]]:
    return [(line, body) for line, body in blocks(language) if not body.lstrip().startswith("# fragment")]


@pytest.fixture(scope="module")
def local_providers() -> Iterator[ProviderServer]:
    with ProviderServer() as server:
        yield server


def environment(server: ProviderServer, home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        OPENAI_BASE_URL=server.openai_url,
        OPENAI_API_KEY="sk-readme",
        ANTHROPIC_BASE_URL=server.url,
        ANTHROPIC_API_KEY="sk-ant-readme",
        GOOGLE_GEMINI_BASE_URL=server.url,
        GOOGLE_API_KEY="AIza-readme",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=server.url,
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_DEFAULT_REGION="us-east-1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


@pytest.mark.parametrize("line, body", runnable("python"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_python_block_runs(line: int, body: str, local_providers: ProviderServer, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(body, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=environment(local_providers, tmp_path),
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, f"README.md line {line}:\n{body}\n--- stderr ---\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("line, body", runnable("bash"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_bash_block_runs(line: int, body: str, local_providers: ProviderServer, tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", body], cwd=tmp_path, env=environment(local_providers, tmp_path),
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"README.md line {line}:\n{body}\n--- stderr ---\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("line, body", blocks("toml"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_toml_block_parses(line: int, body: str) -> None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    tomllib.loads(body)


def test_every_block_is_runnable_or_marked() -> None:
    """No silent skipping: a block in another language than these is data, not code to paste."""
    text = README.read_text(encoding="utf-8")
    languages = {m.group(1) for m in _FENCE.finditer(text)}
    assert languages <= {"python", "bash", "toml", "text", "promql", "console", "yaml", "json"}, languages
    assert "" not in languages, "a code block without a language: mark it python, bash, text ..."


def test_table_of_contents_lists_every_section_in_order() -> None:
    text = README.read_text(encoding="utf-8")
    outside_code = _FENCE.sub("", text)
    sections = re.findall(r"^## (.+)$", outside_code, re.M)
    toc = re.search(r"^## Contents\n(.*?)^## ", outside_code, re.M | re.S)
    assert toc, "the README has no '## Contents' section"
    listed = re.findall(r"^- \[(.+?)\]\(#", toc.group(1), re.M)
    assert listed == [s for s in sections if s != "Contents"]
    assert len(set(sections)) == len(sections), "a section heading appears twice"


def test_the_first_command_runs_the_demo_and_the_second_the_suite_ci_runs() -> None:
    """A newcomer's first two commands: install and run the demo, then the whole suite; CI runs
    that same test command (``.ci/run``), so the README never drifts from what is tested."""
    first, second = (body for _, body in blocks("bash")[:2])
    first_command = [line for line in first.splitlines() if line.strip() and not line.startswith("#")]
    assert len(first_command) == 1 and "pip install" in first_command[0], first
    assert first_command[0].rstrip().endswith("tokentrace demo"), first
    (test_command,) = [line for line in second.splitlines() if line.strip() and not line.startswith("#")]
    assert test_command.strip() == "./scripts/test.sh"
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec ./scripts/test.sh" in ci
