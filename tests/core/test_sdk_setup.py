"""SDK setup from OTEL_* variables: only when an exporter is named, never over the app's providers.

Global providers can be set once per process, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace, metrics
    {before}
    import tokentrace
    tokentrace.instrument()
    print(json.dumps({{"tracer": type(trace.get_tracer_provider()).__name__,
                       "meter": type(metrics.get_meter_provider()).__name__,
                       "processors": [type(p).__name__ for p in getattr(getattr(trace.get_tracer_provider(), "_active_span_processor", None), "_span_processors", [])]}}))
    """
)


def _run(env_extra, before=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE.format(before=before)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_nothing_named_leaves_the_global_providers_to_the_app():
    result = _run({})
    assert result["tracer"] == "ProxyTracerProvider"


def test_otlp_endpoint_sets_up_sdk_providers():
    result = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_METRIC_EXPORT_INTERVAL": "600000"})
    assert result["tracer"] == "TracerProvider"
    assert result["meter"] == "MeterProvider"
    assert result["processors"] == ["BatchSpanProcessor"]


def test_app_configured_provider_is_never_replaced():
    before = "from opentelemetry.sdk.trace import TracerProvider\nmine = TracerProvider()\ntrace.set_tracer_provider(mine)"
    result = _run({"OTEL_TRACES_EXPORTER": "console"}, before)
    assert result["tracer"] == "TracerProvider"
    assert result["processors"] == []


def test_configure_sdk_off():
    env = {"OTEL_TRACES_EXPORTER": "console", "TOKENTRACE_CONFIGURE_SDK": "false"}
    assert _run(env)["tracer"] == "ProxyTracerProvider"


def test_entry_point_for_opentelemetry_instrument():
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "tokentrace"]
    assert len(found) == 1
    instrumentor = found[0].load()()
    import tokentrace

    instrumentor.instrument()
    try:
        assert tokentrace.is_instrumented()
        assert instrumentor.is_instrumented_by_opentelemetry
    finally:
        instrumentor.uninstrument()
    assert not tokentrace.is_instrumented()
