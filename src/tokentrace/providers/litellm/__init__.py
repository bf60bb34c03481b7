"""LiteLLM (``litellm``): ``completion``, ``acompletion``, ``embedding``, ``aembedding``, streamed
or not: one span per call, whatever provider LiteLLM routes to.

LiteLLM reaches many providers through their own SDKs (``openai``, and others); while a LiteLLM
call sends its request, tokentrace's adapters for those SDKs open nothing
(:func:`~tokentrace.providers.flow.enter_gateway`), so a call is never counted twice. Inside
``acompletion`` LiteLLM runs ``completion`` again; that inner call is covered by the outer span.

``import litellm`` takes many seconds (and fetches a price map from the network unless
``LITELLM_LOCAL_MODEL_COST_MAP=True``), so tokentrace never imports it: when ``litellm`` is not
imported yet at ``instrument()``, the patches are applied by an import hook the moment the
application imports it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..base import Patch, ProviderInstrumentor
from ..methods import MethodSpec, complete
from . import extract
from .streams import InjectedUsageFilter, StreamState, StreamWrapperProxy

_LABEL = "LiteLLM"
_COMPLETION = MethodSpec(_LABEL, extract.completion_request(), extract.fill_completion, StreamState)
_EMBEDDING = MethodSpec(_LABEL, extract.embedding_request, extract.fill_embedding)


def _with_stream_usage(pipeline: Pipeline, call: Call, kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
    """Ask a stream for its usage chunk (hidden again from the app) unless the app asked itself."""
    try:
        if not (call.record.stream and pipeline.config.stream_usage):
            return kwargs, False
        options = kwargs.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") is True:
            return kwargs, False
        if options is not None and not isinstance(options, dict):
            return kwargs, False
        return {**kwargs, "stream_options": {**(options or {}), "include_usage": True}}, True
    except Exception as exc:
        report("LiteLLM stream usage", exc)
        return kwargs, False


def _deliver(pipeline: Pipeline, call: Call, spec: MethodSpec, result: Any, injected: bool = False) -> Any:
    if call.record.stream and hasattr(result, "__next__"):
        try:
            return StreamWrapperProxy(result, StreamState(call, pipeline, injected))
        except Exception as exc:
            report("LiteLLM stream proxy", exc)
            flow.finish(pipeline, call, _LABEL)
            return InjectedUsageFilter(result) if injected else result
    complete(pipeline, call, spec, result)
    return result


def _sync(spec: MethodSpec) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = flow.open_call(pipeline, lambda: spec.build(instance, args, kwargs, pipeline.config.capture_any), _LABEL)
            if call is None:
                return wrapped(*args, **kwargs)
            send_kwargs, injected = _with_stream_usage(pipeline, call, kwargs)
            token = flow.enter_gateway(_LABEL)
            try:
                result = flow.run_sync(pipeline, call, _LABEL, lambda: wrapped(*args, **send_kwargs))
            finally:
                flow.leave_gateway(token)
            return _deliver(pipeline, call, spec, result, injected)

        return wrapper

    return factory


def _async(spec: MethodSpec) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = flow.open_call(pipeline, lambda: spec.build(instance, args, kwargs, pipeline.config.capture_any), _LABEL)
            if call is None:
                return await wrapped(*args, **kwargs)
            send_kwargs, injected = _with_stream_usage(pipeline, call, kwargs)
            token = flow.enter_gateway(_LABEL)
            try:
                result = await flow.run_async(pipeline, call, _LABEL, lambda: wrapped(*args, **send_kwargs))
            finally:
                flow.leave_gateway(token)
            return _deliver(pipeline, call, spec, result, injected)

        return wrapper

    return factory


class _ExecThenCall:
    """The module's own loader (every attribute delegated, resources included), calling back after
    ``exec_module``."""

    def __init__(self, loader: Any, after: Callable[[], None]) -> None:
        self._loader = loader
        self._after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        self._after()


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``callback`` once, right after ``litellm`` itself has been imported."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.local = threading.local()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "litellm" or getattr(self.local, "busy", False):
            return None
        self.local.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.local.busy = False
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _ExecThenCall(loader, self.fire)  # type: ignore[assignment]
        return spec

    def fire(self) -> None:
        self.remove()
        try:
            self.callback()
        except Exception as exc:
            report("LiteLLM patching after import", exc)

    def remove(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


class LiteLLMInstrumentor(ProviderInstrumentor):
    name = "litellm"
    module = "litellm"

    def __init__(self) -> None:
        super().__init__()
        self._hook: Optional[_AfterImport] = None

    def available(self) -> bool:
        # Installed is enough; importing it here would cost every instrument() many seconds.
        return "litellm" in sys.modules or importlib.util.find_spec("litellm") is not None

    def patches(self) -> List[Patch]:
        found = []
        for module in ("litellm", "litellm.main"):
            found += [
                Patch(module, "completion", _sync(_COMPLETION)),
                Patch(module, "acompletion", _async(_COMPLETION)),
                Patch(module, "embedding", _sync(_EMBEDDING)),
                Patch(module, "aembedding", _async(_EMBEDDING)),
            ]
        return found

    def foreign_instrumentation(self) -> List[str]:
        return super().foreign_instrumentation() if "litellm" in sys.modules else []

    def instrument(self, pipeline: Pipeline) -> None:
        if "litellm" in sys.modules:
            super().instrument(pipeline)
            return
        self._hook = _AfterImport(lambda: super(LiteLLMInstrumentor, self).instrument(pipeline))
        sys.meta_path.insert(0, self._hook)

    def uninstrument(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        super().uninstrument()


__all__ = ["LiteLLMInstrumentor"]
