"""What each host sends in a chat stream *unasked*, so tokentrace hides only what it caused.

OpenAI sends stream usage only when ``stream_options.include_usage`` asks for it: then every
chunk carries ``"usage": null`` and one extra chunk (``choices: []``) carries the usage. tokentrace
asks, and takes back exactly that from what the application sees. OpenAI-compatible hosts differ
(vLLM, Together, Hugging Face's router, Writer, local servers): some send ``"usage": null`` on
every chunk anyway, some send the usage chunk anyway. Nothing in an *asked* stream tells which
part exists because tokentrace asked, so the answer has to be known before asking:

* OpenAI's and Azure OpenAI's own API hosts, and registered stand-ins for them (the local
  provider server), behave as OpenAI documents: tokentrace asks from the first stream.
* Any other host is first observed: its first stream goes out exactly as the application sent
  it, and what that stream carried unasked becomes the host's :class:`Profile`. If the host sends
  usage unasked, tokentrace never needs to ask; otherwise it asks from then on and hides exactly
  the difference. That first stream's usage comes from the host if it sent any, else it is
  estimated (``tokentrace.usage.source = estimate``).

Profiles are per ``(host, port)``, kept for the life of the process (bounded), and guarded by a
lock: streams end on any thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ...pricing import hosts

#: Providers whose own hosts follow OpenAI's documented ``include_usage`` behaviour.
_DOCUMENTED = frozenset({"openai", "azure.ai.openai"})
_MAX_HOSTS = 1024

Key = Tuple[Optional[str], Optional[int]]


@dataclass(frozen=True)
class Profile:
    """What a host's chat streams carry when the request does not ask for usage."""

    #: Chunks carry a ``"usage": null`` field anyway.
    null_usage: bool = False
    #: The stream carries usage anyway (a usage-only chunk, or usage on a content chunk).
    usage: bool = False
    #: The host answered 400 to ``stream_options``: never ask it.
    rejects_stream_options: bool = False

    @property
    def ask(self) -> bool:
        """Whether asking for usage can gain anything (and is accepted)."""
        return not self.usage and not self.rejects_stream_options


#: OpenAI's documented behaviour: nothing usage-related unless asked.
OPENAI = Profile()

_profiles: Dict[Key, Profile] = {}
_lock = threading.Lock()


def profile(host: Optional[str], port: Optional[int]) -> Optional[Profile]:
    """The host's profile, or ``None`` while its streams have not been observed yet."""
    key = (host, port)
    known = _profiles.get(key)
    if known is not None:
        return known
    info = hosts.classify(host, port)
    if info.kind == "stand_in" or (info.kind == "vendor" and info.provider in _DOCUMENTED):
        return OPENAI
    return None


def learn(host: Optional[str], port: Optional[int], null_usage: bool, usage: bool) -> None:
    """Record what an unasked stream from this host carried (positive evidence only adds)."""
    key = (host, port)
    with _lock:
        old = _profiles.get(key)
        if old is None and len(_profiles) >= _MAX_HOSTS:
            return
        rejects = old.rejects_stream_options if old is not None else False
        null_usage = null_usage or (old.null_usage if old is not None else False)
        usage = usage or (old.usage if old is not None else False)
        _profiles[key] = Profile(null_usage=null_usage, usage=usage, rejects_stream_options=rejects)


def reject_stream_options(host: Optional[str], port: Optional[int]) -> None:
    """The host refused ``stream_options``: stop asking it."""
    key = (host, port)
    with _lock:
        old = _profiles.get(key) or profile(host, port) or Profile()
        if key not in _profiles and len(_profiles) >= _MAX_HOSTS:
            return
        _profiles[key] = Profile(null_usage=old.null_usage, usage=old.usage, rejects_stream_options=True)


def reset() -> None:
    """Forget every learned profile (tests; a host that changed its behaviour)."""
    with _lock:
        _profiles.clear()
