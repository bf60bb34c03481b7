"""Thread propagation: automatic while instrumented, explicit with propagate_context, reversible."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import tokentrace


def _in_thread(target):
    box = {}

    def run():
        box["values"] = target()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return box["values"]


def test_without_instrument_threads_start_empty_and_the_helper_carries_attribution():
    with tokentrace.attribute(team="search"):
        assert _in_thread(tokentrace.current_attribution) == {}
        assert _in_thread(tokentrace.propagate_context(tokentrace.current_attribution)) == {"team": "search"}
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(tokentrace.current_attribution).result() == {}
            assert pool.submit(tokentrace.propagate_context(tokentrace.current_attribution)).result() == {"team": "search"}


def test_instrumented_threads_and_pools_carry_attribution(instrument):
    instrument()
    with tokentrace.attribute(team="search"):
        assert _in_thread(tokentrace.current_attribution) == {"team": "search"}
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(tokentrace.current_attribution).result() == {"team": "search"}


def test_thread_subclass_with_its_own_run_is_carried_too(instrument):
    instrument()

    class Worker(threading.Thread):
        def run(self):
            self.values = tokentrace.current_attribution()

    with tokentrace.attribute(team="search"):
        worker = Worker()
        worker.start()
        worker.join()
    assert worker.values == {"team": "search"}
    assert "run" not in vars(worker)


def test_uninstrument_restores_the_original_methods(instrument):
    submit, start = ThreadPoolExecutor.submit, threading.Thread.start
    instrument()
    assert ThreadPoolExecutor.submit is not submit and threading.Thread.start is not start
    tokentrace.uninstrument()
    assert ThreadPoolExecutor.submit is submit and threading.Thread.start is start
    with tokentrace.attribute(team="search"):
        assert _in_thread(tokentrace.current_attribution) == {}


def test_helper_without_context_returns_the_function_itself():
    def fn():
        return 1

    assert tokentrace.propagate_context(fn) is fn


def test_an_instrument_that_fails_halfway_leaves_nothing_patched(instrument, server, client, monkeypatch):
    """A fault after the thread patches and the SDK patches were applied (here: the transport
    guard, the last step): instrument() reports it and undoes both, so no later code runs with
    patches that uninstrument() could never remove."""
    import tokentrace.providers

    submit, start = ThreadPoolExecutor.submit, threading.Thread.start

    def broken_guard(pipeline):
        raise RuntimeError("injected setup fault")

    monkeypatch.setattr(tokentrace.providers, "install_transport_guard", broken_guard)
    telemetry = instrument()
    assert ThreadPoolExecutor.submit is submit and threading.Thread.start is start
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert telemetry.llm_spans() == []  # the openai adapter applied before the fault is undone too
    test_without_instrument_threads_start_empty_and_the_helper_carries_attribution()
