"""AWS event-stream framing (``application/vnd.amazon.eventstream``) for the local server.

Bedrock's streaming operations answer in this binary framing, and botocore decodes it with CRC
checks, so the server must frame every message exactly: a prelude (total length, headers
length, prelude CRC32), typed headers, the payload and a CRC32 over the whole message. Only the
string header type is needed; that is all Bedrock sends.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any, Dict

_STRING = 7


def _headers(headers: Dict[str, str]) -> bytes:
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    return out


def message(headers: Dict[str, str], payload: bytes) -> bytes:
    """One complete event-stream message."""
    encoded = _headers(headers)
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack("!I", zlib.crc32(body) & 0xFFFFFFFF)


def event(event_type: str, payload: Any) -> bytes:
    """An ``event`` message with a JSON payload, as Bedrock sends ``chunk`` / ``messageStart`` ..."""
    return message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


def exception(exception_type: str, text: str) -> bytes:
    """A modeled error in the middle of a stream (``throttlingException`` ...)."""
    return message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
        json.dumps({"message": text}).encode(),
    )
