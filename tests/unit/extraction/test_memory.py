import subprocess
import sys
from pathlib import Path

from workers.extraction.memory import MEMORY_LIMIT_EXIT_CODE

PROGRAM = """
import sys, time
from pathlib import Path
from workers.extraction.memory import MemoryWatchdog, resident_bytes
limit = resident_bytes() + 64 * 2**20
MemoryWatchdog(limit, on_exceeded=lambda rss: Path(sys.argv[1]).write_text(str(rss))).start()
ballast = bytearray(int(sys.argv[2]) * 2**20)
time.sleep(1)
"""


def run(tmp_path: Path, megabytes: int) -> tuple[int, Path]:
    note = tmp_path / "note"
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(note), str(megabytes)], timeout=30)
    return done.returncode, note


def test_a_process_past_its_limit_says_why_and_exits_with_the_memory_code(tmp_path: Path) -> None:
    returncode, note = run(tmp_path, 128)
    assert returncode == MEMORY_LIMIT_EXIT_CODE
    assert int(note.read_text()) > 64 * 2**20


def test_a_process_under_its_limit_lives(tmp_path: Path) -> None:
    returncode, note = run(tmp_path, 16)
    assert returncode == 0
    assert not note.exists()

