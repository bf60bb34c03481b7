"""The anthropic SDK's own OpenTelemetry tests give the same results with tokentrace instrumented.

``.ci/install-anthropic-sdk-tests.sh`` unpacks the sdist of the installed anthropic version (it
ships its tests) into ``.ci-work/anthropic-sdk-tests/<version>``. Its two OpenTelemetry test
files (about a thousand tests of the SDK's call spans: attributes, status, propagation, streams,
content, the tool runner) run twice in subprocesses, at the same time: plain, and with
``-p tokentrace_anthropic_sdk_plugin`` (tokentrace instrumented, its Messages spans borrowed from
the SDK). Every test's outcome must be the same. The plugin shows the SDK's tests their spans
without the keys tokentrace added and checks those separately: the SDK's own recording must be
exactly what it is without tokentrace, and tokentrace's usage and cost must be on the same span.
(A test that fails plainly, as the SigV4 signature test does with this machine's botocore, is
tolerated by the comparison.)

One test differs by design: ``test_disabled_spans_call_nothing_of_opentelemetry`` replaces
``opentelemetry.trace.get_current_span`` and four other API functions with ones that fail, for
the whole process, and calls a client with ``open_telemetry=False``. Such a call has no SDK span
to borrow, so tokentrace records it on a span of its own (on tokentrace's provider), and the
OpenTelemetry SDK's ``Tracer.start_span`` calls ``get_current_span`` for the parent. The SDK
itself still calls nothing (its tracer is never asked for), which is what that test is about;
:data:`OWN_SPAN_DIFFERS` names exactly its variants, and they must fail for that reason only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import anthropic
import pytest

ROOT = Path(__file__).resolve().parents[3]
SDK = ROOT / ".ci-work" / "anthropic-sdk-tests" / anthropic.__version__
PLUGIN_DIR = Path(__file__).resolve().parent / "sdk_plugin"
FILES = ("tests/test_open_telemetry.py", "tests/lib/tools/test_open_telemetry.py")
#: The tests whose outcome differs by design (see the module docstring), with the reason they fail.
OWN_SPAN_DIFFERS = {
    f"tests/test_open_telemetry.py::TestTracingFailures::test_disabled_spans_call_nothing_of_opentelemetry[{variant}]"
    for variant in ("sync-option", "sync-variable", "async-option", "async-variable")
}
_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.M)

pytestmark = pytest.mark.skipif(
    not (SDK / ".done").exists(),
    reason=f"the anthropic {anthropic.__version__} SDK tests are not unpacked: run .ci/install-anthropic-sdk-tests.sh",
)


def _start(instrumented: bool, spans_file: Path, log: Path) -> Tuple[subprocess.Popen, Path]:
    paths = [str(SDK / "deps"), str(ROOT / "src")]
    # -n auto (pytest-xdist) is left out of the SDK's addopts; its httpx alias plugin stays.
    args = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o", "addopts=--tb=short -p tests._alias_httpx", *FILES]
    if instrumented:
        paths.append(str(PLUGIN_DIR))
        args[3:3] = ["-p", "tokentrace_anthropic_sdk_plugin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "TOKENTRACE_", "OTEL_"))}
    env.update(PYTHONPATH=os.pathsep.join(paths), TOKENTRACE_SDK_SPANS=str(spans_file))
    env.pop("TEST_API_BASE_URL", None)
    handle = log.open("w")
    return subprocess.Popen(args, cwd=SDK / "src", env=env, stdout=handle, stderr=subprocess.STDOUT, text=True), log


def _outcomes(run: Tuple[subprocess.Popen, Path]) -> Tuple[Dict[str, str], str]:
    process, log = run
    try:
        process.wait(timeout=1500)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    text = log.read_text()
    return {name: outcome for outcome, name in _OUTCOME.findall(text)}, text[-4000:]


def test_sdk_open_telemetry_tests_same_outcome_with_tokentrace(tmp_path):
    runs: List[Tuple[subprocess.Popen, Path]] = [
        _start(False, tmp_path / "plain.json", tmp_path / "plain.log"),
        _start(True, tmp_path / "spans.json", tmp_path / "instrumented.log"),
    ]
    plain, plain_log = _outcomes(runs[0])
    instrumented, log = _outcomes(runs[1])
    assert sum(1 for o in plain.values() if o == "PASSED") >= 900, plain_log
    differing = {
        name: (plain.get(name), instrumented.get(name))
        for name in set(plain) | set(instrumented)
        if plain.get(name) != instrumented.get(name)
    }
    expected = {name: (plain.get(name), "FAILED") for name in OWN_SPAN_DIFFERS if plain.get(name) == "PASSED"}
    assert {n: d for n, d in differing.items() if n not in expected} == {}, (sorted(differing.items())[:40], log)
    assert {n: d for n, d in differing.items() if n in expected} == expected, log
    # They fail only because tokentrace's own span asked for the current span, not the SDK.
    full = (tmp_path / "instrumented.log").read_text()
    section = full[full.find("test_disabled_spans_call_nothing_of_opentelemetry") :]
    assert "get_current_span" in section, log
    counts = json.loads((tmp_path / "spans.json").read_text())
    # The run was really instrumented: hundreds of the SDK's Messages spans were borrowed, and
    # every one of them that was exported carried tokentrace's cost status.
    assert counts["borrowed_spans"] >= 300, counts
    assert counts["exported_borrowed"] >= 300, counts
    assert counts["without_cost_status"] == 0, counts
