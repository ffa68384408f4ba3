"""One page's time budget: past it, extraction stops with ``ExtractTimeout`` (the URL ends ``failed: timeout``).

On the main thread, when the process's alarm is free, the budget interrupts whatever runs (an alarm signal);
elsewhere, it is checked between the extraction's steps. The interruption is a ``BaseException`` so that the
libraries' ``except Exception`` cannot swallow it: readability-lxml turns any error inside ``summary()`` into
"unparseable", which would end the page as ``skipped: no_readable_content``.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from workers.errors import ExtractTimeout


class _Expired(BaseException):
    """Raised by the alarm inside the interrupted code; turned into ExtractTimeout where the budget ends."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[Callable[[], None]]:
    """Run the ``with`` block within ``seconds`` (None: no limit); it gets a ``check()`` that raises ExtractTimeout
    once they are spent, for the places an alarm cannot reach (another thread, an alarm already in use)."""
    if seconds is None:
        yield lambda: None
        return
    deadline = time.monotonic() + seconds

    def check() -> None:
        if time.monotonic() > deadline:
            raise _timeout(seconds)

    active = True

    def expire(_signum: int, _frame: FrameType | None) -> None:
        if active:
            raise _Expired

    previous = _claim_alarm(expire)
    try:
        try:
            if previous is not None:
                signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
            yield check
        finally:
            active = False
            if previous is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired:
        raise _timeout(seconds) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)


def _claim_alarm(handler: Callable[[int, FrameType | None], None]) -> signal.Handlers | None:
    """Install ``handler`` for SIGALRM and return the handler it replaced, when this is the main thread and nobody
    else uses the alarm; else None (the budget is then only checked between steps)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGALRM, handler)
    return signal.SIG_DFL


def _timeout(seconds: float) -> ExtractTimeout:
    return ExtractTimeout(f"extraction took longer than its budget of {seconds:g} s")
