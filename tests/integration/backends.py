"""Real observability backends, started as subprocesses for the integration tests.

Arize Phoenix (traces, over OTLP/HTTP) and Prometheus (metrics, scraping the OpenTelemetry
Prometheus exporter) run exactly as a user would run them; the tests then read back through
their public HTTP APIs. Nothing here is mocked: if an export silently fails, the backend has no
data and the tests fail.

``.ci/install-backends.sh`` installs both; when one is missing the tests that need it are
skipped with the reason, everything else still runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples" / "observability"
ALERT_RULES = EXAMPLES / "prometheus" / "alerts.yml"
DASHBOARD = EXAMPLES / "grafana" / "dashboards" / "tokentrace-spend.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url: str, data: Optional[bytes] = None, timeout: float = 10.0) -> Any:
    request = urllib.request.Request(url, data=data)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_error!r})" if last_error else ""))


def find_phoenix() -> Optional[str]:
    """The ``phoenix`` executable: $TOKENTRACE_PHOENIX, the CI venv, or PATH."""
    candidates = [
        os.environ.get("TOKENTRACE_PHOENIX"),
        str(Path(os.environ.get("TOKENTRACE_PHOENIX_VENV", REPO_ROOT / ".ci-work" / "phoenix-venv")) / "bin" / "phoenix"),
        shutil.which("phoenix"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def find_prometheus() -> Optional[str]:
    return os.environ.get("TOKENTRACE_PROMETHEUS") or shutil.which("prometheus")


class _Process:
    """A backend subprocess whose output goes to a log file that failures quote."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: Optional[subprocess.Popen] = None

    def spawn(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None) -> None:
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        log.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with status {self.process.returncode}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class Phoenix(_Process):
    """``phoenix serve`` on 127.0.0.1 with its own SQLite database in ``workdir``."""

    def __init__(self, executable: str, workdir: Path) -> None:
        super().__init__("phoenix", workdir)
        self.executable = executable
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def otlp_traces_endpoint(self) -> str:
        return self.url + "/v1/traces"

    def start(self, timeout: float = 120.0) -> Phoenix:
        env = dict(os.environ)
        env.update(
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.port),
            PHOENIX_GRPC_PORT=str(free_port()),
            PHOENIX_WORKING_DIR=str(self.workdir),
            PHOENIX_SQL_DATABASE_URL=f"sqlite:///{self.workdir / 'phoenix.db'}",
            PHOENIX_TELEMETRY_ENABLED="false",
        )
        for key in [k for k in env if k.startswith("OTEL_")]:
            del env[key]
        self.spawn([self.executable, "serve"], env)

        def ready() -> bool:
            self.check_alive()
            with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                return response.status == 200

        try:
            wait_until(ready, timeout, "Phoenix /readyz", interval=0.5)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\nphoenix log:\n{self.log_tail()}") from None
        return self

    def spans(self, project: str) -> List[Dict[str, Any]]:
        """Every span of ``project``, following the REST API's cursor."""
        spans: List[Dict[str, Any]] = []
        cursor: Optional[str] = None
        while True:
            query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            url = f"{self.url}/v1/projects/{urllib.parse.quote(project)}/spans?{urllib.parse.urlencode(query)}"
            page = http_json(url)
            spans.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return spans


class Prometheus(_Process):
    """A Prometheus server scraping one target every second, with the shipped alert rules loaded."""

    def __init__(self, executable: str, workdir: Path, scrape_target: str, rule_files: Sequence[Path] = ()) -> None:
        super().__init__("prometheus", workdir)
        self.executable = executable
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.scrape_target = scrape_target
        self.rule_files = list(rule_files)
        self.eval_time: Optional[float] = None

    def _write_config(self) -> Path:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [
                {"job_name": "tokentrace-demo", "static_configs": [{"targets": [self.scrape_target]}]},
            ],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        return path

    def start(self, timeout: float = 60.0) -> Prometheus:
        config = self._write_config()
        self.spawn(
            [
                self.executable,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
            ]
        )

        def ready() -> bool:
            self.check_alive()
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200

        try:
            wait_until(ready, timeout, "Prometheus /-/ready")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\nprometheus log:\n{self.log_tail()}") from None
        return self

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            reply = http_json(url)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"Prometheus rejected {params}: {exc.read().decode(errors='replace')}") from None
        assert reply["status"] == "success", reply
        return reply["data"]

    def query(self, expr: str) -> List[Dict[str, Any]]:
        """An instant query at :attr:`eval_time`, or now when unset; returns the vector.

        A scalar result comes back as one unlabelled sample. Pinning the evaluation time makes
        ``rate()`` / ``increase()`` results repeatable: their extrapolation depends on how far
        the last sample lies from the evaluation time.
        """
        params = {"query": expr}
        if self.eval_time is not None:
            params["time"] = f"{self.eval_time:.3f}"
        data = self.api("query", **params)
        if data["resultType"] == "vector":
            return data["result"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        raise AssertionError(f"query {expr!r} returned a {data['resultType']}, expected an instant vector")

    def query_values(self, expr: str, by: Sequence[str] = ()) -> Dict[Any, float]:
        """``{label value(s): number}`` for an instant query, keyed by the ``by`` labels."""
        values: Dict[Any, float] = {}
        for sample in self.query(expr):
            key = tuple(sample["metric"].get(label) for label in by)
            values[key[0] if len(by) == 1 else key] = float(sample["value"][1])
        return values

    def targets_up(self) -> bool:
        return any(t["health"] == "up" for t in self.api("targets")["activeTargets"])

    def rules(self) -> List[Dict[str, Any]]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def scrape_count(self) -> int:
        """How many scrapes have been stored so far (grows by one a second)."""
        result = self.query('count_over_time(up{job="tokentrace-demo"}[1h])')
        return int(float(result[0]["value"][1])) if result else 0

    def wait_for_scrapes(self, count: int = 2, timeout: float = 30.0) -> None:
        """Block until ``count`` more scrapes happened, so what the exporter shows is stored."""
        start = self.scrape_count()
        wait_until(lambda: self.scrape_count() >= start + count, timeout, f"{count} Prometheus scrapes")
