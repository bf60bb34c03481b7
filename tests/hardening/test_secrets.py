"""No API key or Authorization value ever reaches a span, metric or log record.

Covers: every provider's plain call, consumed stream and 429 error, each provider's 401 (the
OpenAI and Anthropic error bodies echo part of the key), with message-content capture ON (the
widest telemetry tokentrace produces). Scanned: every finished span's JSON (attributes, events,
status), every metric data point's JSON, and every log record any logger emitted meanwhile
(message and formatted traceback).
"""

from __future__ import annotations

import logging
from typing import Any, List

import pytest

from tokentrace.testing import ResponsePlan

from .scenarios import SCENARIOS, SECRETS


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())
        if record.exc_info:
            self.texts.append(logging.Formatter().formatException(record.exc_info))


def _authorization_values() -> List[str]:
    keys = [s for s in SECRETS if not s.startswith("AKIA")]
    return SECRETS + tuple(f"Bearer {key}" for key in keys) + tuple(key[:16] for key in SECRETS)  # type: ignore[return-value]


def test_no_secret_in_any_span_metric_or_log(instrument: Any, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    handler = _Collect()
    # tokentrace's own logs and the OpenTelemetry SDK's (which would log a bad attribute value);
    # the provider SDKs' own DEBUG logs print signed headers and are the app's business.
    loggers = [logging.getLogger(name) for name in ("tokentrace", "opentelemetry")]
    old_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        telemetry = instrument()
        for scenario in SCENARIOS.values():
            scenario.run_all(server, ResponsePlan)
            server.enqueue(ResponsePlan(status=401))
            try:
                scenario.call(server)
            except Exception as exc:
                # The app's own exception may echo the key (the SDK's doing); it is not telemetry.
                assert type(exc).__module__.split(".")[0] in ("openai", "anthropic", "google", "botocore", "mistralai", "cohere", "groq", "ollama", "azure", "litellm")
    finally:
        for logger, level in zip(loggers, old_levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    spans = telemetry.spans()
    assert len(telemetry.llm_spans()) == 4 * len(SCENARIOS)
    dumped = [span.to_json() for span in spans]
    data = telemetry.reader.get_metrics_data()
    assert data is not None
    dumped.append(data.to_json())
    dumped.extend(handler.texts)
    everything = "\n".join(dumped)
    assert "gen_ai.input.messages" in everything  # content capture really was on
    for secret in _authorization_values():
        assert secret not in everything, f"{secret[:6]}... leaked into telemetry or logs"
