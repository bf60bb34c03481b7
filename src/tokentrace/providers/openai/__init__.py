"""OpenAI adapter (openai 3.x): chat completions, responses, embeddings, legacy completions.

Patched at the SDK's choke point, ``SyncAPIClient.request`` / ``AsyncAPIClient.request``: every
public method (``create``, ``parse``, ``.stream()`` helpers, ``with_raw_response``,
``with_streaming_response``, Azure and OpenAI-compatible clients) goes through it, retries
included, so one span covers the logical call as the GenAI conventions ask. Requests to other
endpoints (files, models ...) pass straight through.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Set, Tuple

from ...attribution.propagation import register_provider_origin, strip_attribution_baggage
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow, retries
from ..base import Patch, ProviderInstrumentor, foreign_package, is_foreign_wrapper, is_tokentrace_wrapper
from . import background, batches, endpoints, helpers, stream_hosts
from .endpoints import CHAT, COMPLETIONS, RESPONSES, build_record, client_target, endpoint_of, input_messages
from .streams import ResultHandler, filter_injected_usage

_PROVIDER = "OpenAI"

_FOREIGN_TARGETS = (
    ("openai.resources.chat.completions", "Completions", "create"),
    ("openai.resources.chat.completions", "AsyncCompletions", "create"),
    ("openai.resources.responses", "Responses", "create"),
    ("openai.resources.embeddings", "Embeddings", "create"),
    ("openai._base_client", "SyncAPIClient", "request"),
)


@dataclass
class _Plan:
    endpoint: str
    call: Call
    args: Tuple[Any, ...]
    kwargs: dict
    #: What the host sends unasked, when tokentrace asked for stream usage; else ``None``.
    asked: Optional[stream_hosts.Profile]
    host: Tuple[Optional[str], Optional[int]]
    #: The stream goes out as the app sent it, to learn what this host sends unasked.
    probe: bool
    #: A background response (``background: true``): its usage may arrive after the call.
    background: bool = False


def _prepare(
    pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: dict, target: Any = None
) -> Optional[Tuple[str, Any, Tuple[Any, ...], dict, Optional[stream_hosts.Profile], Any, bool, bool]]:
    """Everything tokentrace does before the request, except starting the call; pure and guarded."""
    options: Any = args[1] if len(args) > 1 else kwargs.get("options")
    endpoint = endpoint_of(getattr(options, "url", ""), getattr(options, "method", ""))
    if endpoint is None:
        return None
    body = options.json_data if isinstance(options.json_data, Mapping) else {}
    stream = bool(kwargs.get("stream", False))
    if target is None:
        target = client_target(instance)
    record = build_record(endpoint, body, target, stream)
    if pipeline.config.capture_any:
        system, messages = input_messages(endpoint, body)
        record.system_instructions = system or None
        record.input_messages = messages or None
    asked: Optional[stream_hosts.Profile] = None
    probe = False
    if stream and endpoint in (CHAT, COMPLETIONS) and pipeline.config.stream_usage:
        stream_options = body.get("stream_options")
        app_asked = isinstance(stream_options, Mapping) and stream_options.get("include_usage") is True
        known = None if app_asked else stream_hosts.profile(target.address, target.port)
        probe = not app_asked and known is None
        if known is not None and known.ask:
            new_options = options.model_copy()
            new_options.json_data = {
                **body,
                "stream_options": {**(stream_options if isinstance(stream_options, Mapping) else {}), "include_usage": True},
            }
            if len(args) > 1:
                args = (args[0], new_options, *args[2:])
            else:
                kwargs = {**kwargs, "options": new_options}
            asked = known
    return endpoint, record, args, kwargs, asked, (target.address, target.port), probe, endpoint == RESPONSES and background.requested(body)


#: Client targets already registered as provider origins (the registry never forgets one).
_registered: Set[Tuple[Any, Any]] = set()


def _register_origin(instance: Any) -> Any:
    """Every request of this client (traced or not) goes to an LLM provider: no attribution there.

    Returns the client's target (``None`` if it could not be read), for the rest of the call."""
    try:
        target = client_target(instance)
        origin = (target.address, target.port)
        if origin not in _registered:
            register_provider_origin(target.address, target.port)
            if len(_registered) < 1024:
                _registered.add(origin)
        return target
    except Exception as exc:
        report("OpenAI client origin", exc)
        return None


def _begin(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Optional[_Plan]:
    target = _register_origin(instance)
    try:
        prepared = _prepare(pipeline, instance, args, kwargs, target)
    except Exception as exc:
        report("OpenAI request", exc)
        return None
    if prepared is None:
        return None
    endpoint, record, new_args, new_kwargs, asked, host, probe, is_background = prepared
    call = flow.open_call(pipeline, lambda: record, _PROVIDER, rewrites_model=True)
    if call is None:
        return None
    new_args, new_kwargs = flow.apply_policy_model(call, new_args, new_kwargs, flow.options_with_model, _PROVIDER)
    return _Plan(endpoint, call, new_args, new_kwargs, asked, host, probe, is_background)


def _rejects_stream_options(plan: _Plan, exc: BaseException) -> bool:
    """A compatible endpoint refused the ``stream_options`` tokentrace added."""
    try:
        import openai

        if plan.asked is not None and isinstance(exc, openai.BadRequestError) and "stream_options" in str(exc):
            stream_hosts.reject_stream_options(*plan.host)
            return True
    except Exception as inner:
        report("OpenAI stream_options fallback", inner)
    return False


def _deliver(pipeline: Pipeline, plan: _Plan, result: Any) -> Any:
    try:
        handler = ResultHandler(plan.call, pipeline, plan.endpoint, plan.asked, plan.host if plan.probe else None, plan.background)
        return handler.handle(result)
    except Exception as exc:
        report("OpenAI response", exc)
    flow.finish(pipeline, plan.call, _PROVIDER)
    if plan.asked is None:
        return result
    try:
        return filter_injected_usage(result, plan.asked)
    except Exception as exc:  # the fallback itself failed: the app still gets its result
        report("OpenAI stream usage filter", exc)
        return result


def _follow_up(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: dict, result: Any) -> Any:
    """An untraced request's result; a background response's retrieve or cancel may settle it."""
    try:
        options = args[1] if len(args) > 1 else kwargs.get("options")
        if background.is_follow_up(str(getattr(options, "url", "")), str(getattr(options, "method", ""))):
            return background.follow(pipeline, instance, result)
    except Exception as exc:
        report("OpenAI background response", exc)
    return result


def _sync_request(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        plan = _begin(pipeline, instance, args, kwargs)
        if plan is None:
            return _follow_up(pipeline, instance, args, kwargs, wrapped(*args, **kwargs))
        token = flow.activate(pipeline, plan.call, _PROVIDER)
        try:
            try:
                result = wrapped(*plan.args, **plan.kwargs)
            except BaseException as exc:
                if not _rejects_stream_options(plan, exc):
                    flow.fail(pipeline, plan.call, exc, _PROVIDER)
                    raise
                plan.asked, plan.probe = None, True
                args, kwargs = flow.apply_policy_model(plan.call, args, kwargs, flow.options_with_model, _PROVIDER)
                try:
                    result = wrapped(*args, **kwargs)
                except BaseException as retry_exc:
                    flow.fail(pipeline, plan.call, retry_exc, _PROVIDER)
                    raise
        finally:
            flow.deactivate(token, _PROVIDER)
        return _deliver(pipeline, plan, result)

    return wrapper


def _async_request(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        plan = _begin(pipeline, instance, args, kwargs)
        if plan is None:
            return _follow_up(pipeline, instance, args, kwargs, await wrapped(*args, **kwargs))
        token = flow.activate(pipeline, plan.call, _PROVIDER)
        try:
            try:
                result = await wrapped(*plan.args, **plan.kwargs)
            except BaseException as exc:
                if not _rejects_stream_options(plan, exc):
                    flow.fail(pipeline, plan.call, exc, _PROVIDER)
                    raise
                plan.asked, plan.probe = None, True
                args, kwargs = flow.apply_policy_model(plan.call, args, kwargs, flow.options_with_model, _PROVIDER)
                try:
                    result = await wrapped(*args, **kwargs)
                except BaseException as retry_exc:
                    flow.fail(pipeline, plan.call, retry_exc, _PROVIDER)
                    raise
        finally:
            flow.deactivate(token, _PROVIDER)
        return _deliver(pipeline, plan, result)

    return wrapper


def _strip_attribution(request: Any) -> None:
    """Attribution rides W3C baggage between the app's services, never to the LLM provider."""
    try:
        headers = request.headers
        # httpx headers test membership case-insensitively, and most requests carry no baggage.
        if not hasattr(headers, "multi_items") or "baggage" in headers:
            strip_attribution_baggage(headers)
    except Exception as exc:
        report("OpenAI baggage stripping", exc)


def _sync_prepare(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        result = wrapped(*args, **kwargs)
        _strip_attribution(args[0] if args else kwargs.get("request"))
        return result

    return wrapper


def _async_prepare(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        result = await wrapped(*args, **kwargs)
        _strip_attribution(args[0] if args else kwargs.get("request"))
        return result

    return wrapper


def _passthrough(pipeline: Pipeline) -> Callable[..., Any]:
    """A verb (``post``, ``get`` ...) only carries the ``watch`` on ``request`` (see :data:`_VERBS`)."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        return wrapped(*args, **kwargs)

    return wrapper


#: Every resource method calls one of these, which looks ``self.request`` up anew: each checks
#: first that ``request`` still reaches tokentrace (another instrumentation's ``uninstrument()``
#: can leave a plain ``request`` on ``openai.OpenAI``; see ``ProviderInstrumentor.reclaim``), so
#: the call is traced. Resources built before ``instrument()`` hold the original verbs; for them
#: the same check in ``_prepare_request`` reclaims from their next call on.
_VERBS = ("get", "post", "patch", "put", "delete")


class OpenAIInstrumentor(ProviderInstrumentor):
    name = "openai"
    module = "openai"

    def patches(self) -> List[Patch]:
        return [
            Patch("openai._base_client", "SyncAPIClient.request", _sync_request),
            Patch("openai._base_client", "AsyncAPIClient.request", _async_request),
            *(Patch("openai._base_client", f"{cls}.{verb}", _passthrough, watch="request")
              for cls in ("SyncAPIClient", "AsyncAPIClient") for verb in _VERBS),
            Patch("openai._base_client", "SyncAPIClient._prepare_request", _sync_prepare, watch="request"),
            Patch("openai._base_client", "AsyncAPIClient._prepare_request", _async_prepare, watch="request"),
            Patch("openai._base_client", "SyncAPIClient._sleep_for_retry", retries.sync_retry_hook(_PROVIDER)),
            Patch("openai._base_client", "AsyncAPIClient._sleep_for_retry", retries.async_retry_hook(_PROVIDER)),
            # OpenAI / AsyncOpenAI (and the Azure clients) override the hook without calling super().
            Patch("openai._client", "OpenAI._prepare_request", _sync_prepare, watch="request"),
            Patch("openai._client", "AsyncOpenAI._prepare_request", _async_prepare, watch="request"),
            # Batch API: usage per request from the output file (see .batches).
            Patch("openai.resources.batches", "Batches.create", batches.create_wrapper(False)),
            Patch("openai.resources.batches", "AsyncBatches.create", batches.create_wrapper(True)),
            Patch("openai.resources.batches", "Batches.retrieve", batches.retrieve_wrapper(False)),
            Patch("openai.resources.batches", "AsyncBatches.retrieve", batches.retrieve_wrapper(True)),
            Patch("openai.resources.files", "Files.content", batches.content_wrapper(False)),
            Patch("openai.resources.files", "AsyncFiles.content", batches.content_wrapper(True)),
            *helpers.patches(),
        ]

    def foreign_instrumentation(self) -> List[str]:
        import importlib

        found = super().foreign_instrumentation()
        for module_name, class_name, method in _FOREIGN_TARGETS:
            try:
                owner = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError):
                continue
            attr = vars(owner).get(method)
            if is_tokentrace_wrapper(attr):
                attr = getattr(attr, "__wrapped__", None)
            where = f"{module_name}.{class_name}.{method}"
            if is_foreign_wrapper(attr) and not any(item.startswith(where + " ") for item in found):
                found.append(f"{where} ({foreign_package(attr)})")
        return found


__all__ = ["OpenAIInstrumentor", "endpoints"]
