"""The suite itself: a user's READQ_* variables and .env file reach no test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_no_readq_variable_or_env_file_reaches_a_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("READQ_INDEX_PREFIX=fromdotenv\nREADQ_ALLOW_PRIVATE_NETWORKS=true\n")
    monkeypatch.chdir(tmp_path)

    assert [name for name in os.environ if name.startswith("READQ_")] == []
    settings = Settings()
    assert (settings.index_prefix, settings.allow_private_networks) == ("readq", False)


def test_the_settings_tests_pass_with_a_users_readq_shell(tmp_path: Path) -> None:
    """What the README's quick start leaves in a shell, and a .env beside it: the tests that read settings pass."""
    (tmp_path / ".env").write_text("READQ_INDEX_PREFIX=fromdotenv\nREADQ_VISIBILITY_TIMEOUT=7\n")
    user_shell = {"READQ_ALLOW_PRIVATE_NETWORKS": "true", "READQ_INDEX_PREFIX": "mine",
                  "READQ_FLOWER_BASIC_AUTH": "me:secret", "READQ_METRICS_ADDRESS": "0.0.0.0"}
    tests = [str(ROOT / "tests" / "unit" / name) for name in
             ("test_settings.py", "cli/test_launcher.py", "cli/test_kibana_objects.py")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                           "-c", str(ROOT / "pyproject.toml"), *tests], cwd=tmp_path, env={**os.environ, **user_shell},
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
