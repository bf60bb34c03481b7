"""LiteLLM's ``CustomStreamWrapper``: one object that is a sync *and* an async iterator, a context
manager and an async one, closed with ``close()`` or ``aclose()``; the proxy offers all of it."""

from __future__ import annotations

from typing import Any

import wrapt

from ..chunks import ChunkState
from ..proxies import AsyncClosingStreamProxy, SyncStreamProxy
from ..values import field
from . import extract


class StreamState(ChunkState):
    """``hide_usage_chunk``: tokentrace asked for the usage chunk; the application does not see it."""

    label = "LiteLLM"
    __slots__ = ("hide_usage_chunk",)

    def __init__(self, call: Any, pipeline: Any, hide_usage_chunk: bool = False) -> None:
        super().__init__(call, pipeline)
        self.hide_usage_chunk = hide_usage_chunk

    def observe(self, item: Any) -> bool:  # type: ignore[override]
        # Decided first, so a fault below never shows the app the chunk tokentrace caused.
        visible = not (self.hide_usage_chunk and InjectedUsageFilter.usage_chunk(item))
        super().observe(item)
        return visible

    def visible_on_fault(self, item: Any) -> bool:
        return not (self.hide_usage_chunk and InjectedUsageFilter.usage_chunk(item))

    def read(self, chunk: Any) -> None:
        choices = extract.read_chunk(self.call.record, chunk)
        for choice in choices if isinstance(choices, list) else ():
            text = field(field(choice, "delta"), "content")
            if isinstance(text, str) and text:
                self.texts.append(text)
            reason = field(choice, "finish_reason")
            if isinstance(reason, str) and reason:
                self.reasons.append(reason)


class StreamWrapperProxy(SyncStreamProxy, AsyncClosingStreamProxy):
    """Sync protocol (``close()``, ``with``) from the Stainless-style proxy, async protocol
    (``aclose()``, ``async with``) from the async one: both end the same call once."""

    def __init__(self, stream: Any, state: StreamState) -> None:
        wrapt.ObjectProxy.__init__(self, stream)
        self._self_state = state


class InjectedUsageFilter(wrapt.ObjectProxy):
    """Last resort when the stream proxy could not be set up: still hide the chunk tokentrace caused."""

    def __iter__(self) -> InjectedUsageFilter:
        return self

    def __next__(self) -> Any:
        while True:
            item = self.__wrapped__.__next__()
            if not InjectedUsageFilter.usage_chunk(item):
                return item

    def __aiter__(self) -> InjectedUsageFilter:
        return self

    async def __anext__(self) -> Any:
        while True:
            item = await self.__wrapped__.__anext__()
            if not InjectedUsageFilter.usage_chunk(item):
                return item

    def __enter__(self) -> InjectedUsageFilter:
        self.__wrapped__.__enter__()
        return self

    async def __aenter__(self) -> InjectedUsageFilter:
        await self.__wrapped__.__aenter__()
        return self

    @staticmethod
    def usage_chunk(item: Any) -> bool:
        """The usage-only chunk ``stream_options.include_usage`` adds: no choices, a usage."""
        try:
            return not getattr(item, "choices", None) and getattr(item, "usage", None) is not None
        except Exception:
            return False
