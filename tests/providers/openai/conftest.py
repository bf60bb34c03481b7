"""Each test starts with no learned stream behaviour of any host (see providers/openai/stream_hosts.py)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tokentrace.providers.openai import stream_hosts


@pytest.fixture(autouse=True)
def _fresh_stream_hosts() -> Iterator[None]:
    stream_hosts.reset()
    yield
    stream_hosts.reset()
