"""The other instrumentations, as variants of the benchmark (``run.py --peers``).

Each peer is switched on and off in the same process, between rounds, like tokentrace and the
floor, so all of them are measured under the same load. They are installed in their own venv
(``benchmarks/install-peers.sh``: their entry points and pins stay out of the main one); a peer
whose package is missing is left out of the table with a note.

* ``openai-v2``: the official OpenTelemetry GenAI instrumentation (``opentelemetry-instrumentation-openai-v2``).
* ``openinference``: Arize's ``openinference-instrumentation-openai`` / ``-anthropic``.
* ``openllmetry``: Traceloop's ``opentelemetry-instrumentation-openai`` / ``-anthropic``.
* ``anthropic-sdk``: the ``anthropic`` SDK's own spans (2.x), given the benchmark's tracer
  provider per client (``open_telemetry={"tracer_provider": ...}``); in every other variant the
  SDK's spans go to the API's no-op provider, as in an app without OpenTelemetry configured.

OpenLIT is not among them: ``openlit.init()`` sets itself up process-wide and has no way back,
so it cannot take turns with the others in one process, and its pins need a venv of its own. It
is measured anyway, in the same rounds, by worker processes of that venv (isolated.py): run.py
shows it as the ``openlit`` column whenever ``.ci-work/bench-openlit-venv`` exists, and says so
in a note when it does not.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

#: Every SDK client the benchmark made (the ``anthropic-sdk`` peer switches their tracing).
CLIENTS: List[Any] = []


@dataclass
class Peer:
    name: str
    #: (module, class) of each instrumentor, by provider.
    instrumentors: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    accepts_meter_provider: bool = False
    _active: List[Any] = field(default_factory=list)
    _saved: List[Tuple[Any, Dict[str, Any]]] = field(default_factory=list)

    def providers(self) -> List[str]:
        return [p for p, target in self.instrumentors.items() if _importable(target[0])]

    def install(self, tracer_provider: Any, meter_provider: Any) -> None:
        self._saved = _snapshot()
        for provider in self.providers():
            module, cls = self.instrumentors[provider]
            instrumentor = getattr(importlib.import_module(module), cls)()
            options: Dict[str, Any] = {"tracer_provider": tracer_provider}
            if self.accepts_meter_provider:
                options["meter_provider"] = meter_provider
            instrumentor.instrument(**options)
            self._active.append(instrumentor)

    def uninstall(self) -> None:
        while self._active:
            self._active.pop().uninstrument()
        # OpenLLMetry's uninstrument() leaves its wrappers on the SDK's methods (wrapt 1): put back
        # whatever a peer replaced, so the next variant measures the SDK without it.
        _restore(getattr(self, "_saved", []))


class AnthropicNative(Peer):
    """The anthropic SDK's own spans: each client is given the benchmark's tracer provider."""

    def providers(self) -> List[str]:
        try:
            import anthropic

            client = anthropic.Anthropic(api_key="x")
        except Exception:
            return []
        return ["anthropic"] if hasattr(client, "_set_open_telemetry") else []

    def install(self, tracer_provider: Any, meter_provider: Any) -> None:
        for client in _anthropic_clients():
            client._set_open_telemetry({"tracer_provider": tracer_provider})

    def uninstall(self) -> None:
        for client in _anthropic_clients():
            client._set_open_telemetry(None)


_SDKS = ("openai", "anthropic")


def _snapshot() -> List[Tuple[Any, Dict[str, Any]]]:
    """The namespaces of every loaded SDK module and class, as they are now."""
    saved: List[Tuple[Any, Dict[str, Any]]] = []
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _SDKS:
            continue
        saved.append((module, dict(vars(module))))
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                saved.append((value, dict(vars(value))))
    return saved


def _restore(saved: List[Tuple[Any, Dict[str, Any]]]) -> None:
    """Put back every attribute that is now a wrapt proxy where it was not one before, and take
    away what a peer added to a class: OpenInference's uninstrument() leaves a plain copy of
    ``SyncAPIClient.request`` on ``openai.OpenAI``, which would hide a patch on the base class
    (tokentrace's and the floor's) from every later variant."""
    import wrapt

    proxies = (wrapt.ObjectProxy, getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy))
    for owner, before in saved:
        for key, value in list(vars(owner).items()):
            if key not in before:
                if isinstance(owner, type) and (callable(value) or isinstance(value, proxies)):
                    delattr(owner, key)
            elif isinstance(value, proxies) and before[key] is not value:
                setattr(owner, key, before[key])


def _anthropic_clients() -> List[Any]:
    try:
        from anthropic._base_client import BaseClient
    except ImportError:
        return []
    return [c for c in CLIENTS if isinstance(c, BaseClient)]


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:
        return False
    return True


def available() -> Tuple[List[Peer], List[str]]:
    """The peers installed here, and a note for each one that is not."""
    candidates: List[Peer] = [
        Peer("openai-v2", {"openai": ("opentelemetry.instrumentation.openai_v2", "OpenAIInstrumentor")}, accepts_meter_provider=True),
        Peer(
            "openinference",
            {
                "openai": ("openinference.instrumentation.openai", "OpenAIInstrumentor"),
                "anthropic": ("openinference.instrumentation.anthropic", "AnthropicInstrumentor"),
            },
        ),
        Peer(
            "openllmetry",
            {
                "openai": ("opentelemetry.instrumentation.openai", "OpenAIInstrumentor"),
                "anthropic": ("opentelemetry.instrumentation.anthropic", "AnthropicInstrumentor"),
            },
            accepts_meter_provider=True,
        ),
        AnthropicNative("anthropic-sdk"),
    ]
    found, missing = [], []
    for peer in candidates:
        if peer.providers():
            found.append(peer)
        else:
            missing.append(f"{peer.name}: not installed here (run benchmarks/install-peers.sh and use its venv)")
    return found, missing


def by_name(peers: List[Peer]) -> Dict[str, Peer]:
    return {peer.name: peer for peer in peers}


Switch = Callable[[Optional[str]], None]
