"""docker-compose.yml cannot run here (no Docker engine): check what it promises, as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_every_part_is_a_service(compose: dict[str, Any]) -> None:
    assert {"redis", "elasticsearch", "kibana", "flower", "setup", "kibana-setup", "fetch", "extract",
            "index"} <= set(compose["services"])


def test_redis_persists_and_never_evicts(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert "--requirepass" in command


def test_elasticsearch_8_with_a_healthcheck(compose: dict[str, Any]) -> None:
    service = compose["services"]["elasticsearch"]
    assert re.search(r"elasticsearch:8\.\d+\.\d+$", service["image"])
    assert "healthcheck" in service


def test_workers_wait_for_setup_and_run_one_stage_each(compose: dict[str, Any]) -> None:
    for stage in ("fetch", "extract", "index"):
        service = compose["services"][stage]
        assert service["command"] == ["worker", "--queues", stage]
        assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully"
        assert "kibana-setup" not in service["depends_on"]  # ingestion never waits for Kibana
    assert compose["services"]["setup"]["command"] == ["setup"]


def test_flower_is_persistent_and_behind_basic_auth(compose: dict[str, Any]) -> None:
    flower = compose["services"]["flower"]
    entrypoint = " ".join(flower["entrypoint"])
    assert "--persistent=True" in entrypoint and "basic-auth" not in entrypoint  # never on a command line
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert flower["environment"]["READQ_REDIS_URL"]  # the shared settings are kept beside it


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    """Every password, key or auth value comes from the environment (${VAR}), never from the file."""
    checked = 0
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|AUTH|API_KEY|SECRET", name):
                assert "${" in str(value), name
                checked += 1
    assert checked >= 5
    assert "--requirepass ${REDIS_PASSWORD" in compose["services"]["redis"]["command"]


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
