"""Scrub secrets from text that may reach telemetry (exception messages, URLs).

Provider error messages can echo part of a key ("Incorrect API key provided: sk-abc...") and
users sometimes put keys in base URLs. No API key or Authorization value may ever reach an
attribute, so every free text tokentrace exports passes through :func:`redact`.
"""

from __future__ import annotations

import re

_PATTERNS = [
    re.compile(r"\b(sk-(?:ant-|proj-|or-)?[A-Za-z0-9_\-*.]{6,})"),
    re.compile(r"\b(AIza[0-9A-Za-z_\-]{10,})"),
    re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{12,})"),
    re.compile(r"(?i)\b(bearer\s+[A-Za-z0-9_\-.=:+/*]+)"),
    re.compile(r"(?i)((?:api[_-]?key|x-api-key|authorization|access[_-]?token|signature)[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;]+)"),
]

REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    if not text:
        return text
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text
