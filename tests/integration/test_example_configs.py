"""The docker compose example hangs together: every mounted file exists and the services agree.

No Docker here, so the stack itself cannot start in CI; these checks catch the mistakes that
would make ``docker compose up`` come up empty (a wrong mount, port, datasource uid or rule path).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from .backends import DASHBOARD, EXAMPLES


def _yaml(relative: str) -> Dict[str, Any]:
    return yaml.safe_load((EXAMPLES / relative).read_text())


def test_every_mounted_file_exists() -> None:
    compose = _yaml("docker-compose.yml")
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (EXAMPLES / source).resolve().exists(), f"service {name} mounts missing {source}"


def test_prometheus_scrapes_the_collector_and_loads_the_mounted_rules() -> None:
    compose = _yaml("docker-compose.yml")
    collector = _yaml("otel-collector/config.yaml")
    prometheus = _yaml("prometheus/prometheus.yml")
    port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    targets = [t for job in prometheus["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == [f"otel-collector:{port}"]
    mounts = dict(v.split(":")[:2][::-1] for v in compose["services"]["prometheus"]["volumes"])
    for rule_file in prometheus["rule_files"]:
        assert Path(mounts[rule_file]).name == "alerts.yml"
    assert set(collector["service"]["pipelines"]["metrics"]["exporters"]) == {"prometheus"}
    assert "otlp/jaeger" in collector["service"]["pipelines"]["traces"]["exporters"]


def test_promtool_accepts_the_prometheus_config(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Prometheus) is not installed: run .ci/install-backends.sh")
    config = _yaml("prometheus/prometheus.yml")
    config["rule_files"] = [str(EXAMPLES / "prometheus" / "alerts.yml")]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisioning_matches_the_dashboard() -> None:
    datasources = _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    prometheus_uid = next(d["uid"] for d in datasources if d["type"] == "prometheus")
    board = json.loads(DASHBOARD.read_text())
    variable = next(v for v in board["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"]["value"] == prometheus_uid
    provider = _yaml("grafana/provisioning/dashboards/tokentrace.yml")["providers"][0]
    compose = _yaml("docker-compose.yml")
    mounts = dict(v.split(":")[:2][::-1] for v in compose["services"]["grafana"]["volumes"])
    assert (EXAMPLES / mounts[provider["options"]["path"]] / DASHBOARD.name).exists()
