"""The openai SDK's own streaming tests give the same results with tokentrace instrumented.

``.ci/install-openai-sdk-tests.sh`` unpacks the sdist of the installed openai version (it ships
its tests) into ``.ci-work/openai-sdk-tests/<version>``. The chosen test files run twice in a
subprocess, plain and with ``-p tokentrace_sdk_plugin`` (tokentrace instrumented), and every
test's outcome must be the same. (The sdist leaves out some recorded streams those files read
from ``.inline-snapshot/external``; those tests fail in both runs alike, which the comparison
tolerates, and the rest, ``test_stream_moderation`` among them, must pass in both.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

import openai
import pytest

ROOT = Path(__file__).resolve().parents[3]
SDK = ROOT / ".ci-work" / "openai-sdk-tests" / openai.__version__
PLUGIN_DIR = Path(__file__).resolve().parent / "sdk_plugin"
FILES = ("tests/lib/chat/test_completions_streaming.py", "tests/lib/chat/test_stream_moderation.py")
_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.M)

pytestmark = pytest.mark.skipif(
    not (SDK / ".done").exists(),
    reason=f"the openai {openai.__version__} SDK tests are not unpacked: run .ci/install-openai-sdk-tests.sh",
)


def _run(instrumented: bool, spans_file: Path) -> Tuple[Dict[str, str], str]:
    paths = [str(SDK / "deps"), str(ROOT / "src")]
    args = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o", "addopts=--tb=short", *FILES]
    if instrumented:
        paths.append(str(PLUGIN_DIR))
        args[3:3] = ["-p", "tokentrace_sdk_plugin"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "TOKENTRACE_SDK_SPANS": str(spans_file)}
    env.pop("TEST_API_BASE_URL", None)
    result = subprocess.run(args, cwd=SDK / "src", env=env, capture_output=True, text=True, timeout=300)
    outcomes = {name: outcome for outcome, name in _OUTCOME.findall(result.stdout)}
    return outcomes, result.stdout[-3000:]


def test_sdk_streaming_tests_same_outcome_with_tokentrace(tmp_path):
    plain, plain_log = _run(False, tmp_path / "plain.json")
    instrumented, log = _run(True, tmp_path / "spans.json")
    moderation = [name for name in plain if "test_stream_moderation" in name]
    assert len(moderation) == 12 and all(plain[name] == "PASSED" for name in moderation), plain_log
    assert sum(1 for o in plain.values() if o == "PASSED") >= 17, plain_log
    differing = {name: (plain.get(name), instrumented.get(name)) for name in set(plain) | set(instrumented) if plain.get(name) != instrumented.get(name)}
    assert not differing, log
    spans = json.loads((tmp_path / "spans.json").read_text())
    assert spans["llm_spans"] >= 20  # the run was really instrumented
