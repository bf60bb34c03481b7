"""The Bedrock stream state, spoken through the shared proxies' ``observe`` protocol.

aiobotocore's ``AioEventStream`` yields the same parsed event dicts as botocore's, so the Bedrock
state reads them unchanged; the shared :class:`~tokentrace.providers.proxies.AsyncIterableProxy`
only needs one ``observe`` entry point.
"""

from __future__ import annotations

from typing import Any

from ...core.pipeline import Call, Pipeline
from ..bedrock.streams import StreamState


class AsyncStreamState(StreamState):
    __slots__ = ("converse",)

    def __init__(self, call: Call, pipeline: Pipeline, converse: bool) -> None:
        super().__init__(call, pipeline)
        self.converse = converse

    def observe(self, event: Any) -> None:
        if self.converse:
            self.observe_converse(event)
        else:
            self.observe_invoke(event)
