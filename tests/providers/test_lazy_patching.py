"""``instrument()`` imports no SDK: each is patched the moment the application imports it.

Subprocess tests: only a fresh interpreter shows what ``instrument()`` imports and what a later
``import openai`` gets. The timing itself is measured in ``benchmarks/startup.py``, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest

from tokentrace.providers import REGISTRY, deferred, load_instrumentor

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("openai", "anthropic", "google.genai", "botocore", "httpcore", "urllib3", "wrapt", "opentelemetry.sdk.trace")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    environ: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environ, capture_output=True, text=True, timeout=120)


def test_instrument_imports_no_sdk_and_patches_on_import(provider_server: Any) -> None:
    result = _run(
        f"""
        import sys
        import tokentrace

        tokentrace.instrument()
        print("imported by instrument():", sorted(m for m in {HEAVY!r} if m in sys.modules))

        from opentelemetry.sdk.trace import TracerProvider  # the app sets up its SDK later
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry import trace
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        import openai  # patched inside this statement
        from openai._base_client import SyncAPIClient
        print("patched on import:", type(vars(SyncAPIClient)["request"]).__name__)
        client = openai.OpenAI(base_url="{provider_server.openai_url}", api_key="sk-test", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
        print("spans:", [s.name for s in exporter.get_finished_spans()])

        tokentrace.uninstrument()
        print("restored:", type(vars(SyncAPIClient)["request"]).__name__)
        import anthropic  # imported after uninstrument(): left alone
        from anthropic._base_client import SyncAPIClient as AnthropicClient
        print("after uninstrument:", type(vars(AnthropicClient)["request"]).__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "imported by instrument(): []"
    assert lines[1] == "patched on import: _TokentraceFunctionWrapper"
    assert lines[2] == "spans: ['chat gpt-4o-mini']"
    assert lines[3] == "restored: function"
    assert lines[4] == "after uninstrument: function"


def test_an_sdk_imported_before_instrument_is_patched_at_once() -> None:
    result = _run(
        """
        import openai, tokentrace
        from openai._base_client import SyncAPIClient
        tokentrace.instrument()
        print(type(vars(SyncAPIClient)["request"]).__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "_TokentraceFunctionWrapper"


def test_import_tokentrace_stays_light() -> None:
    result = _run(
        f"""
        import sys
        import tokentrace
        print(sorted(m for m in {HEAVY + ("opentelemetry.sdk.metrics", "tokentrace.instrumentation", "tokentrace.pricing")!r} if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", [name for name, _ in REGISTRY])
def test_each_adapter_waits_for_the_module_it_patches(name: str) -> None:
    if name not in deferred.SDK_MODULES:
        pytest.skip(f"the {name} adapter is loaded at instrument() and defers its own patching")
    instrumentor = load_instrumentor(name)
    if instrumentor is None:
        pytest.skip(f"the {name} SDK is not installed here")
    assert deferred.SDK_MODULES[name] == instrumentor.module


def test_the_startup_benchmark_runs() -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "startup.py"), "--runs", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert '"sdks_imported_by_instrument": []' in result.stdout


def test_an_adapter_whose_patch_imports_another_watched_module() -> None:
    # boto3 -> botocore (the Bedrock adapter's hook) -> its patch imports botocore.client ->
    # urllib3 (the transport guard's hook) fires inside the first hook, in the same thread.
    result = _run(
        """
        import tokentrace
        tokentrace.instrument()
        import boto3, botocore.client, urllib3.connection
        print(type(vars(botocore.client.BaseClient)["_make_api_call"]).__name__,
              type(vars(urllib3.connection.HTTPConnection)["request"]).__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["_TokentraceFunctionWrapper", "_TokentraceFunctionWrapper"]
