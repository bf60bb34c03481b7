"""Scrub secrets from text that may reach telemetry (exception messages, URLs).

Provider error messages can echo part of a key ("Incorrect API key provided: sk-abc...") and
users sometimes put keys in base URLs. No API key or Authorization value may ever reach an
attribute, so every free text tokentrace exports passes through :func:`redact`.
"""

from __future__ import annotations

import json
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


# -- error text safe with content capture off ----------------------------------------------------

#: A provider error code or type worth keeping is a short identifier (Mistral's codes are digits,
#: "3230"); anything else may be content.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: Longest error body parsed for its code and type (an SDK keeps the raw JSON text: Mistral).
_MAX_BODY = 16384


def _identifier(value: object) -> str | None:
    return value if isinstance(value, str) and _IDENTIFIER.match(value) else None


def _status(exc: BaseException) -> int | None:
    for value in (getattr(exc, "status_code", None), getattr(exc, "code", None)):
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if isinstance(status, int) and 100 <= status <= 599:
            return status
    return None


def _body(exc: BaseException) -> object:
    body = getattr(exc, "body", None)
    if isinstance(body, str) and body[:1] == "{" and len(body) <= _MAX_BODY:
        try:  # mistralai's SDKError keeps the response text: {"message": ..., "type": ..., "code": ...}
            return json.loads(body)
        except ValueError:
            return None
    return body


def _code_and_type(exc: BaseException) -> tuple[str | None, str | None]:
    code = _identifier(getattr(exc, "code", None)) or _identifier(getattr(exc, "status", None))
    kind = _identifier(getattr(exc, "type", None))
    body = _body(exc)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):  # anthropic: {"type": "error", "error": {"type": ..., "message": ...}}
            kind = kind or _identifier(inner.get("type"))
            code = code or _identifier(inner.get("code"))
        else:  # mistral: {"object": "error", "message": ..., "type": ..., "code": ...}
            kind = kind or _identifier(body.get("type"))
            code = code or _identifier(body.get("code"))
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError: {"Error": {"Code": ..., "Message": ...}}
        error = response.get("Error")
        if isinstance(error, dict):
            code = code or _identifier(error.get("Code"))
    return code, kind


def error_summary(exc: BaseException, type_name: str) -> str:
    """What may be said about a failed call with content capture off.

    Provider error messages often echo the prompt ("Invalid prompt: ... contains disallowed
    content"), so without capture only the exception type, the HTTP status and the provider's
    own error code and type (short identifiers) are recorded, never the message.
    """
    parts = []
    try:
        status = _status(exc)
        code, kind = _code_and_type(exc)
    except Exception:
        status, code, kind = None, None, None
    if status is not None:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(f"code={code}")
    if kind and kind != code:
        parts.append(f"type={kind}")
    return f"{type_name}: {', '.join(parts)}" if parts else type_name
