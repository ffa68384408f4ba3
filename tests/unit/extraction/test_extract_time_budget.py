"""The extractor's time budget: a page that takes too long ends ``failed: timeout``, whatever step it is in."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from readability import Document

from config.settings import Settings
from workers.errors import ExtractTimeout, NoReadableContent, ReadqError
from workers.extraction.extractor import Extractor
from workers.extraction.timebudget import time_budget

STORY = "The harbour committee approved the new ferry timetable on Tuesday evening after a long debate. "
PAGE = f"<html><head><title>Ferry</title></head><body><article><p>{STORY * 6}</p></article></body></html>"
URL = "http://news.example.test/ferry"


@pytest.fixture
def free_alarm() -> Iterator[None]:
    """SIGALRM as a worker process has it (pytest-timeout holds it during tests); restored afterwards."""
    handler = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    timer = signal.setitimer(signal.ITIMER_REAL, 0)
    yield
    signal.signal(signal.SIGALRM, handler)
    if timer[0]:
        signal.setitimer(signal.ITIMER_REAL, *timer)


def _slow(seconds: float) -> Any:
    def step(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return {}
    return step


def test_a_step_inside_readability_that_outlasts_the_budget_ends_as_timeout(
        free_alarm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # readability's summary() turns any Exception raised inside it into Unparseable, which the extractor reports as
    # no readable content: the interruption must pass through it.
    monkeypatch.setattr(Document, "score_paragraphs", _slow(5))
    started = time.monotonic()
    with pytest.raises(ExtractTimeout) as caught:
        Extractor(min_text_chars=200, time_limit=0.2).extract(PAGE, URL)
    assert time.monotonic() - started < 2  # interrupted, not waited out
    assert caught.value.reason == "timeout"
    assert not isinstance(caught.value, NoReadableContent)
    assert "0.2 s" in str(caught.value)


def test_the_alarm_is_given_back_after_each_page(free_alarm: None) -> None:
    extraction = Extractor(min_text_chars=200, time_limit=5).extract(PAGE, URL)
    assert STORY.strip() in extraction.text
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_alarm_in_use_is_left_alone_and_the_budget_checked_between_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fired: list[int] = []
    handler = signal.signal(signal.SIGALRM, lambda signum, _frame: fired.append(signum))
    try:
        monkeypatch.setattr(Document, "score_paragraphs", _slow(0.4))
        with pytest.raises(ExtractTimeout):
            Extractor(min_text_chars=200, time_limit=0.1).extract(PAGE, URL)
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL  # still the other user's handler
    finally:
        signal.signal(signal.SIGALRM, handler)


def test_off_the_main_thread_the_budget_is_checked_between_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Document, "score_paragraphs", _slow(0.4))
    outcome: list[BaseException | str] = []

    def work() -> None:
        try:
            outcome.append(Extractor(min_text_chars=200, time_limit=0.1).extract(PAGE, URL).text)
        except ReadqError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], ExtractTimeout)


def test_a_page_within_its_budget_is_extracted(free_alarm: None) -> None:
    with time_budget(5) as check:
        check()
        text = Extractor(min_text_chars=200, time_limit=5).extract(PAGE, URL).text
    assert STORY.strip() in text


def test_the_budget_comes_from_the_time_limit_setting() -> None:
    assert Extractor.from_settings(Settings(_env_file=None, extract_time_limit=60)).time_limit == 50
    assert Extractor.from_settings(Settings(_env_file=None, extract_time_limit=3)).time_limit == 0.5
