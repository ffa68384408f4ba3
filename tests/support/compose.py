"""docker-compose.yml read as Docker Compose reads it (no Docker engine here): ``${VAR}`` interpolation from a
``.env`` file, ``env_file`` then ``environment`` for a service's environment, and the command it runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
#: Services built from readq's own image: they read readq's settings.
READQ_SERVICES = ("setup", "kibana-setup", "worker", "flower", "cli")
IMAGE_ENTRYPOINT = ["readq"]  # the Dockerfile's ENTRYPOINT

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is unset or empty: compose refuses to start."""


def load_compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE_FILE.read_text()))


def read_dotenv(path: Path) -> dict[str, str]:
    return {name: value or "" for name, value in dotenv_values(path).items()}


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}``, ``${VAR?error}``, with defaults and messages interpolated in turn (nesting)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            out.append(_expand(text[i + 2:end], variables))
            i = end + 1
            continue
        name = _NAME.match(text, i + 1)
        if name is None:
            out.append(char)
            i += 1
            continue
        out.append(variables.get(name.group(), ""))
        i = name.end()
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for position in range(start, len(text)):
        if text.startswith("${", position):
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return position
    raise ValueError(f"unclosed ${{ in {text!r}")


def _expand(expression: str, variables: dict[str, str]) -> str:
    name = _NAME.match(expression)
    if name is None:
        raise ValueError(f"bad interpolation ${{{expression}}}")
    value = variables.get(name.group())
    rest = expression[name.end():]
    if not rest:
        return value or ""
    for operator in (":-", "-", ":?", "?"):
        if rest.startswith(operator):
            argument = rest[len(operator):]
            unset = value is None or (operator.startswith(":") and value == "")
            if operator.endswith("-"):
                return interpolate(argument, variables) if unset else str(value)
            if unset:
                raise MissingVariable(f"{name.group()}: {interpolate(argument, variables)}")
            return str(value)
    raise ValueError(f"unsupported interpolation ${{{expression}}}")


def service_environment(compose: dict[str, Any], service: str, dotenv: Path) -> dict[str, str]:
    """The environment compose gives ``service`` with ``dotenv`` as the project's .env: its ``env_file`` (here
    always the project's .env), then ``environment``, interpolated."""
    variables = read_dotenv(dotenv)
    spec = compose["services"][service]
    env: dict[str, str] = {}
    env_files = spec.get("env_file") or []
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        assert env_file == ".env", env_file  # what this helper knows how to read
        env.update(variables)
    for name, value in (spec.get("environment") or {}).items():
        env[name] = interpolate("" if value is None else str(value), variables)
    return env


def service_command(compose: dict[str, Any], service: str) -> list[str]:
    """The command line the service's container runs: its entrypoint (the image's, unless set), then command."""
    spec = compose["services"][service]
    entrypoint = spec.get("entrypoint", IMAGE_ENTRYPOINT)
    return [*entrypoint, *spec.get("command", [])]


def healthcheck_command(compose: dict[str, Any], service: str) -> list[str]:
    test = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD", test  # exec form: what the container runs, without a shell
    return list(test[1:])


def required_variables() -> set[str]:
    """Every variable compose refuses to start without (``${VAR:?...}``)."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", COMPOSE_FILE.read_text()))


def duration_seconds(text: str) -> float:
    """A compose duration such as ``90s``, ``2m`` or ``1m30s``."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(float(number) * units[unit] for number, unit in parts)
