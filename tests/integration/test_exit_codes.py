"""One test over every command: each exit code of the README's table, from the command as a process.

0 success; 1 readq cannot work (Redis or Elasticsearch unreachable), a check failed, or another error; 2 some URLs
refused or failed, some inputs failed, or what was asked for does not exist; 64 wrong command line; 130
interrupted (test_operator_commands.py: Ctrl-C during `enqueue --wait`)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from readq import Client
from readq._exit_codes import PARTIAL, SUCCESS, UNAVAILABLE, USAGE
from readq.cli import cli
from tests.integration.test_cli import run

NO_REDIS = {"READQ_REDIS_URL": "redis://127.0.0.1:1/0"}
NO_ES = {"READQ_ES_URL": "http://127.0.0.1:1"}
FIXTURE = str(Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "blog-en.html")

#: (arguments, environment overrides, exit code) for each command; every command has --help (0) and a wrong
#: option (64) besides.
CASES: dict[str, list[tuple[list[str], dict[str, str], int]]] = {
    "enqueue": [(["https://example.com/exit-codes"], {}, SUCCESS), (["not a url"], {}, PARTIAL),
                ([], {}, USAGE), (["https://example.com/"], NO_REDIS, UNAVAILABLE)],
    "status": [([], {}, SUCCESS), (["--batch", "nosuchbatch"], {}, PARTIAL),
               (["--failed", "--reason", "bogus"], {}, USAGE), ([], NO_REDIS, UNAVAILABLE)],
    "retry": [(["--batch", "nosuchbatch"], {}, SUCCESS), (["--reason", "bogus"], {}, USAGE),
              ([], NO_ES, UNAVAILABLE)],
    "get": [(["https://example.com/never-queued"], {}, PARTIAL), (["not a url"], {}, USAGE),
            (["https://example.com/"], NO_ES, UNAVAILABLE)],
    # a search with hits (0) is in test_search.py, which indexes what it finds
    "search": [(["qqzxjwv-nowhere"], {}, PARTIAL), (["--size", "0", "x"], {}, USAGE), (["x"], NO_ES, UNAVAILABLE)],
    "export": [(["--batch", "nosuchbatch"], {}, PARTIAL), (["--since", "yesterday"], {}, USAGE),
               ([], NO_ES, UNAVAILABLE)],
    "purge": [(["--batch", "nosuchbatch", "--yes"], {}, PARTIAL), ([], {}, USAGE),
              (["--batch", "b", "--yes"], NO_ES, UNAVAILABLE)],
    "extract": [([FIXTURE], {}, SUCCESS), (["/nonexistent/page.html"], {}, PARTIAL), ([], {}, USAGE)],
    "worker": [(["--processes", "0"], {}, USAGE), (["--check"], {}, UNAVAILABLE),
               (["--check"], NO_REDIS, UNAVAILABLE)],
    "doctor": [([], {}, UNAVAILABLE), ([], NO_REDIS, UNAVAILABLE)],  # no worker here: the check fails
    "setup": [([], {}, SUCCESS), ([], NO_ES, UNAVAILABLE)],
    "dev": [],  # it starts services: --help and a wrong option only
}


def test_every_command_exits_as_the_table_says(idle: Client) -> None:
    assert set(CASES) == set(cli.commands)  # a new command needs its rows here (and in the README)
    runs = [([name, *args], env, code) for name, cases in CASES.items() for args, env, code in cases]
    runs += [([name, "--help"], {}, SUCCESS) for name in CASES]
    runs += [([name, "--no-such-option"], {}, USAGE) for name in CASES]

    def outcome(case: tuple[list[str], dict[str, str], int]) -> tuple[str, int, int, str]:
        args, env, expected = case
        done: subprocess.CompletedProcess[str] = run(idle, *args, **env)
        return " ".join(args), expected, done.returncode, done.stderr[-300:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(outcome, runs))

    wrong = [(args, expected, got, stderr) for args, expected, got, stderr in outcomes if got != expected]
    assert wrong == []
    assert not [args for args, _, _, stderr in outcomes if "Traceback" in stderr]
