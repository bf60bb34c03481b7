"""Which of the openai SDK's ``.stream()`` helpers tokentrace follows (see :mod:`..helper_streams`).

``client.chat.completions.stream(...)`` and ``client.responses.stream(...)`` read tokentrace's raw
stream proxy and raise their own errors, while reading and from ``get_final_completion()`` /
``get_final_response()`` after reading: those are the call's failures. Their ``close()`` closes
the HTTP response rather than the raw stream, so it settles the call too.
"""

from __future__ import annotations

from typing import List

from .. import helper_streams
from ..base import Patch

#: (module, sync helper class, async helper class, final-result method).
HELPERS = (
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream", "AsyncChatCompletionStream", "get_final_completion"),
    ("openai.lib.streaming.responses._responses", "ResponseStream", "AsyncResponseStream", "get_final_response"),
)


def patches() -> List[Patch]:
    found: List[Patch] = []
    for module, sync_class, async_class, final in HELPERS:
        found += [
            Patch(module, f"{sync_class}.__stream__", helper_streams.sync_events),
            Patch(module, f"{async_class}.__stream__", helper_streams.async_events),
            Patch(module, f"{sync_class}.{final}", helper_streams.sync_final),
            Patch(module, f"{async_class}.{final}", helper_streams.async_final),
            Patch(module, f"{sync_class}.close", helper_streams.sync_close),
            Patch(module, f"{async_class}.close", helper_streams.async_close),
        ]
    return found
