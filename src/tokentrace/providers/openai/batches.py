"""OpenAI Batch API: usage and cost of every request in a batch, recorded when the batch's output
file is retrieved, at batch rates, attributed as the batch was when it was created.

A batch is billed per request, hours after ``batches.create``; the only place the usage shows up
is the output file (one JSON line per request, each with the full response ``body``). So:

* ``batches.create`` gets a span of its own (``create_batch``) and tokentrace remembers the batch:
  the attribution in force (team, feature ...) and that span's context;
* ``batches.retrieve`` tells which output file belongs to which batch;
* ``files.content`` of an output file records one ``CLIENT`` span per succeeded request (priced
  with the catalog's batch rates, ``record.batch``), linked to the ``create_batch`` span and
  carrying the creation-time attribution, off the application's thread. Each output file is
  recorded once, however often it is read.

An output file read in a process that did not create the batch is still recognised by its lines
(``batch_req_`` ids) and recorded with the attribution in force at retrieval.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ...core.pipeline import Pipeline
from ...core.safety import report
from ..batch_jobs import Created, create_wrapper as _create_wrapper, record_completed, registry
from ..values import field
from . import endpoints, extract

_LABEL = "OpenAI batch"
BATCH_ID = "openai.batch.id"
CUSTOM_ID = "openai.batch.custom_id"


def note_retrieved(batch: Any) -> None:
    batch_id = field(batch, "id")
    output = field(batch, "output_file_id")
    if isinstance(batch_id, str) and isinstance(output, str) and output:
        registry.output(output, batch_id)


def _looks_like_batch_output(text: str) -> bool:
    head = text[:200].lstrip()
    return head.startswith("{") and '"batch_req_' in head and '"custom_id"' in text[:2000]


def schedule_output(pipeline: Pipeline, file_id: Any, content: Any) -> None:
    """After ``files.content``: record the file's requests off the app's thread, once per file."""
    if not isinstance(file_id, str):
        return
    known = file_id in registry.outputs
    text = getattr(content, "text", None)
    if not isinstance(text, str) or not (known or _looks_like_batch_output(text)):
        return
    if not registry.claim(file_id):
        return
    batch_id = registry.outputs.get(file_id)
    created = registry.batches.get(batch_id) if batch_id else None
    if created is None:
        # Not created here: the attribution in force now, on the app's thread, not the worker's.
        created = Created(pipeline.capture_attribution(), None, endpoints.CHAT)
    from ...core.estimate import worker

    worker.submit(lambda: None if settle(pipeline, text, batch_id, created) is None else None)


def settle(pipeline: Pipeline, text: str, batch_id: Optional[str], created: Optional[Created]) -> int:
    """Record every succeeded request of an output file; returns how many were recorded."""
    recorded = 0
    for line in text.splitlines():
        try:
            recorded += _settle_line(pipeline, line, batch_id, created)
        except Exception as exc:
            report("OpenAI batch output line", exc)
    return recorded


def _settle_line(pipeline: Pipeline, line: str, batch_id: Optional[str], created: Optional[Created]) -> int:
    line = line.strip()
    if not line:
        return 0
    item = json.loads(line)
    response = item.get("response") if isinstance(item, Mapping) else None
    body = response.get("body") if isinstance(response, Mapping) else None
    if not isinstance(body, Mapping) or not isinstance(response, Mapping) or response.get("status_code") != 200 or body.get("usage") is None:
        return 0  # failed requests are not billed
    kind = body.get("object")
    endpoint = endpoints.RESPONSES if kind == "response" else endpoints.EMBEDDINGS if kind == "list" else endpoints.CHAT
    model = body.get("model")
    record = endpoints.build_record(endpoint, {"model": model}, _TARGET, False)
    if batch_id:
        record.response_attributes[BATCH_ID] = batch_id
    custom_id = item.get("custom_id")
    if isinstance(custom_id, str):
        record.response_attributes[CUSTOM_ID] = custom_id
    if endpoint == endpoints.RESPONSES:
        extract.fill_response(record, body, False)
    elif endpoint == endpoints.EMBEDDINGS:
        extract.fill_embeddings(record, body)
    else:
        extract.fill_chat(record, body, False)
    record_completed(pipeline, record, created, _LABEL)
    return 1


class _Target:
    provider = "openai"
    address = "api.openai.com"
    port = 443


_TARGET: Any = _Target()


# -- patch factories ------------------------------------------------------------------------------

Wrapped = Callable[..., Any]


def _describe(kwargs: Dict[str, Any]) -> Tuple[str, str, Dict[str, Any]]:
    endpoint = endpoints.endpoint_of(str(kwargs.get("endpoint") or ""), "post") or endpoints.CHAT
    return "openai", endpoint, {"openai.batch.endpoint": str(kwargs.get("endpoint") or "")}


def create_wrapper(is_async: bool) -> Callable[[Pipeline], Any]:
    return _create_wrapper(is_async, _LABEL, _describe, BATCH_ID)


def _file_id(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    return args[0] if args else kwargs.get("file_id")


def retrieve_wrapper(is_async: bool) -> Callable[[Pipeline], Any]:
    def after(batch: Any) -> None:
        try:
            note_retrieved(batch)
        except Exception as exc:
            report("OpenAI batch retrieve", exc)

    def factory(pipeline: Pipeline) -> Any:
        if is_async:
            async def async_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
                batch = await wrapped(*args, **kwargs)
                after(batch)
                return batch

            return async_wrapper

        def sync_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            batch = wrapped(*args, **kwargs)
            after(batch)
            return batch

        return sync_wrapper

    return factory


def content_wrapper(is_async: bool) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        def after(args: Tuple[Any, ...], kwargs: Dict[str, Any], content: Any) -> None:
            try:
                schedule_output(pipeline, _file_id(args, kwargs), content)
            except Exception as exc:
                report("OpenAI batch output", exc)

        if is_async:
            async def async_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
                content = await wrapped(*args, **kwargs)
                after(args, kwargs, content)
                return content

            return async_wrapper

        def sync_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            content = wrapped(*args, **kwargs)
            after(args, kwargs, content)
            return content

        return sync_wrapper

    return factory
