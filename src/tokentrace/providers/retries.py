"""Count the attempts an SDK retries on its own, inside one call tokentrace traces.

The OpenAI and Anthropic SDKs retry timeouts, dropped connections, 429s and 5xx inside
``request()``; the app (and tokentrace's wrapper around ``request()``) sees one call. A
provider may have processed, and billed, an attempt the client gave up on: a timeout or a
dropped connection. Each retry passes through the SDK's ``_sleep_for_retry(…, response=…)``
with ``response=None`` exactly in those cases, so the hook records on the current call how many
retries there were and how many may have been billed. Reconcile uses that to explain a vendor
billing more than the app saw answered.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

from ..core.pipeline import Pipeline
from ..core.safety import report
from . import flow


def _note(kwargs: dict, provider: str) -> None:
    try:
        call = flow.current_call()
        if call is None:
            return
        record = call.record
        record.retries += 1
        if kwargs.get("response") is None:
            record.possibly_billed_attempts += 1
    except Exception as exc:
        report(f"{provider} retry counting", exc)


def sync_retry_hook(provider: str) -> Callable[[Pipeline], Callable[..., Any]]:
    def factory(pipeline: Pipeline) -> Callable[..., Any]:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
            _note(kwargs, provider)
            return wrapped(*args, **kwargs)

        return wrapper

    return factory


def async_retry_hook(provider: str) -> Callable[[Pipeline], Callable[..., Any]]:
    def factory(pipeline: Pipeline) -> Callable[..., Any]:
        async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
            _note(kwargs, provider)
            return await wrapped(*args, **kwargs)

        return wrapper

    return factory
