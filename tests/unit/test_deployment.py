"""docker-compose.yml cannot run here (no Docker engine): check what it promises, as data, read the way compose
reads it (tests/integration/test_compose_services.py runs each readq service's command for real)."""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from config.settings import Settings
from readq._launcher import stop_grace_seconds
from tests.support.compose import (
    READQ_SERVICES,
    ROOT,
    MissingVariable,
    duration_seconds,
    healthcheck_command,
    interpolate,
    load_compose,
    read_dotenv,
    required_variables,
    service_command,
    service_environment,
)

SPECIAL_VALUES = {
    "redis_url": "redis://:pw@redis.example.internal:6380/2",
    "es_url": "https://es.example.internal:9201",
    "index_prefix": "prodnews",
    "log_format": "json",
    "host_rate_limits": '{"*.example.org": 3.0}',
    "user_agent": "testbot/1.0 (+https://example.org/bot)",
    "allowed_networks": "10.1.0.0/16,192.168.7.0/24",
    "metrics_address": "0.0.0.0",
    "retry_http_codes": "408,425,429",
    "pushback_http_codes": "425,503",
}
STACK_SECRETS = {
    "REDIS_PASSWORD": "redis-secret", "ELASTIC_PASSWORD": "elastic-secret", "KIBANA_PASSWORD": "kibana-secret",
    "KIBANA_SECURITY_KEY": "k" * 32, "KIBANA_SAVED_OBJECTS_KEY": "s" * 32, "KIBANA_REPORTING_KEY": "r" * 32,
    "FLOWER_BASIC_AUTH": "ops:flower-secret",
}


def other_value(name: str, default: Any, annotation: Any) -> str:
    """A valid value of the setting that is not its default."""
    if name in SPECIAL_VALUES:
        return SPECIAL_VALUES[name]
    kinds = set(typing.get_args(annotation)) if isinstance(annotation, types.UnionType) else {annotation}
    if bool in kinds:
        return str(not default).lower()
    if int in kinds:
        return str((default or 0) + 7)
    if float in kinds:
        return str((default or 0) + 0.5)
    if SecretStr in kinds:
        return f"secret-{name}"
    return f"value-{name}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture
def full_dotenv(tmp_path: Path) -> Path:
    """A .env setting the stack's secrets and every readq setting to something other than its default."""
    lines = [f"{name}={value}" for name, value in STACK_SECRETS.items()]
    lines += [f"READQ_{name.upper()}={other_value(name, field.default, field.annotation)}"
              for name, field in Settings.model_fields.items()]
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def settings_in(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a process with exactly this READQ_* environment reads."""
    for name in [n for n in __import__("os").environ if n.startswith("READQ_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("READQ_"):
            monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_every_setting_in_dotenv_reaches_every_readq_service(compose: dict[str, Any], full_dotenv: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = Settings(_env_file=full_dotenv)
    defaults = Settings(_env_file=None)
    unchanged = [name for name in Settings.model_fields if getattr(from_file, name) == getattr(defaults, name)]
    assert unchanged == []  # so that every field below proves something

    for service in READQ_SERVICES:
        in_container = settings_in(service_environment(compose, service, full_dotenv), monkeypatch)
        differing = [name for name in Settings.model_fields
                     if getattr(in_container, name) != getattr(from_file, name)]
        assert differing == [], service


def test_stack_addresses_and_the_readq_user_are_the_defaults(compose: dict[str, Any], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{k}={v}\n" for k, v in STACK_SECRETS.items()) + "READQ_ES_PASSWORD=readq-secret\n")
    for service in READQ_SERVICES:
        env = service_environment(compose, service, dotenv)
        settings = settings_in(env, monkeypatch)
        assert settings.redis_url == "redis://:redis-secret@redis:6379/0", service
        assert settings.es_url == "http://elasticsearch:9200", service
        assert settings.es_username == "readq", service  # never the superuser
        assert settings.es_password == SecretStr("readq-secret"), service
        # env_file hands over the whole .env: the superuser's and Kibana's secrets are blanked again
        leaked = {name for name, value in env.items() if value in STACK_SECRETS.values()}
        expected = {"FLOWER_BASIC_AUTH"} if service == "flower" else set()
        expected |= {"READQ_KIBANA_PASSWORD"} if service == "kibana-setup" else set()
        assert leaked == expected, service


def test_elasticsearch_role_allows_only_readq_s_own_indices_and_templates(compose: dict[str, Any],
                                                                          full_dotenv: Path) -> None:
    security = compose["services"]["es-security"]
    env = service_environment(compose, "es-security", full_dotenv)
    role = json.loads(env["READQ_ROLE"])
    script = " ".join(security["command"])

    assert set(role) == {"cluster", "indices"}
    assert set(role["cluster"]) <= {"monitor", "manage_index_templates"}
    assert role["indices"] == [{"names": ["prodnews-*"], "privileges": ["manage", "read", "write"]}]
    assert "_security/role/readq" in script and '$$READQ_ROLE' in script
    assert "_security/user/$$READQ_ES_USERNAME" in script and '\\"roles\\":[\\"readq\\"]' in script
    assert env["READQ_ES_USERNAME"] == "value-es_username" and env["READQ_ES_PASSWORD"] == "secret-es_password"
    # the only service that logs in as the superuser, besides Kibana's saved-objects import
    users = {name for name, spec in compose["services"].items() if "elastic:$$ELASTIC_PASSWORD" in json.dumps(spec)}
    assert users == {"elasticsearch", "es-security"}


def test_setup_and_workers_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    for service in ("setup", "worker", "cli"):
        assert conditions(service)["redis"] == "service_healthy", service
        assert conditions(service)["elasticsearch"] == "service_healthy", service
    assert conditions("setup")["es-security"] == "service_completed_successfully"  # the readq user exists
    for service in ("worker", "cli"):
        assert conditions(service)["setup"] == "service_completed_successfully", service
        assert "kibana-setup" not in conditions(service)  # ingestion never waits for Kibana
    assert conditions("flower") == {"redis": "service_healthy"}
    assert conditions("kibana") == {"es-security": "service_completed_successfully"}
    assert conditions("kibana-setup") == {"setup": "service_completed_successfully", "kibana": "service_healthy"}
    assert conditions("es-security") == {"elasticsearch": "service_healthy"}


def test_each_service_runs_its_command(compose: dict[str, Any]) -> None:
    assert service_command(compose, "worker") == ["readq", "worker"]
    assert service_command(compose, "setup") == ["readq", "setup"]
    assert service_command(compose, "cli") == ["readq", "--help"]
    assert compose["services"]["cli"]["profiles"] == ["cli"]  # only on `docker compose run --rm cli ...`
    assert service_command(compose, "flower")[:4] == ["celery", "-A", "config.celery", "flower"]


def test_images_are_pinned_and_elastic_versions_agree(compose: dict[str, Any]) -> None:
    images = {name: spec["image"] for name, spec in compose["services"].items()}
    assert all(images[name] == "readq:latest" for name in READQ_SERVICES)
    assert compose["services"]["worker"]["build"] == "."
    assert re.fullmatch(r"redis:7\.\d+-alpine", images["redis"])
    elastic = {images["elasticsearch"], images["es-security"]}
    assert len(elastic) == 1 and re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:8\.\d+\.\d+",
                                              images["elasticsearch"])
    assert images["kibana"] == images["elasticsearch"].replace("elasticsearch/elasticsearch", "kibana/kibana")


def test_workers_and_flower_have_healthchecks(compose: dict[str, Any]) -> None:
    assert healthcheck_command(compose, "worker") == ["readq", "worker", "--check"]
    assert "/healthcheck" in " ".join(healthcheck_command(compose, "flower"))
    for name in ("redis", "elasticsearch", "kibana", "worker", "flower"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_workers_get_longer_than_their_longest_task_to_stop(compose: dict[str, Any]) -> None:
    """`docker stop` waits stop_grace_period before SIGKILL (10 s by default); `readq worker` itself waits
    as long as one page may take, so compose must wait longer still."""
    defaults = Settings(_env_file=None)
    assert duration_seconds(compose["services"]["worker"]["stop_grace_period"]) > stop_grace_seconds(defaults)
    assert stop_grace_seconds(defaults) > defaults.fetch_deadline + defaults.extract_time_limit


def test_elasticsearch_locks_its_memory_and_kibana_keeps_its_keys(compose: dict[str, Any]) -> None:
    elasticsearch = compose["services"]["elasticsearch"]
    assert elasticsearch["environment"]["bootstrap.memory_lock"] == "true"
    assert elasticsearch["ulimits"]["memlock"] == {"soft": -1, "hard": -1}
    kibana = compose["services"]["kibana"]["environment"]
    for key in ("XPACK_SECURITY_ENCRYPTIONKEY", "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY",
                "XPACK_REPORTING_ENCRYPTIONKEY"):
        assert re.fullmatch(r"\$\{KIBANA_\w+_KEY:\?[^}]+\}", kibana[key]), key


def test_env_example_sets_everything_compose_requires(tmp_path: Path) -> None:
    example = read_dotenv(ROOT / ".env.example")
    required = required_variables()
    assert {"REDIS_PASSWORD", "ELASTIC_PASSWORD", "READQ_ES_PASSWORD", "KIBANA_SECURITY_KEY"} <= required
    assert required <= set(example)
    assert all(len(example[key]) >= 32 for key in required if key.endswith("_KEY"))


def test_interpolation_refuses_a_missing_secret(compose: dict[str, Any], tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_PASSWORD=x\n")
    with pytest.raises(MissingVariable, match="READQ_ES_PASSWORD"):
        service_environment(compose, "worker", dotenv)
    assert interpolate("${A:-${B:-c}}-$${A}-$A", {"A": ""}) == "c-${A}-"


def test_redis_persists_and_never_evicts(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert "--requirepass" in command


def test_flower_is_persistent_and_behind_basic_auth(compose: dict[str, Any]) -> None:
    flower = compose["services"]["flower"]
    entrypoint = " ".join(flower["entrypoint"])
    assert "--persistent=True" in entrypoint and "basic-auth" not in entrypoint  # never on a command line
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    """Every password, key or auth value comes from the environment (${VAR}) or is blanked, never written."""
    checked = 0
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|AUTH|API_KEY|SECRET|_KEY$|ENCRYPTIONKEY", name):
                assert value == "" or "${" in str(value), name
                checked += 1
    assert checked >= 15
    assert "--requirepass ${REDIS_PASSWORD" in compose["services"]["redis"]["command"]


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    published = []
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
            published.append(name)
    assert sorted(published) == ["elasticsearch", "flower", "kibana"]
