"""The fetch policy's pushback: which answers pause the whole host is the settings' list."""

from __future__ import annotations

import pytest

from workers.errors import ServerError
from workers.fetching.policy import PoliteFetcher


class RecordingGate:
    """A host schedule that always has a slot now, and remembers the pauses it is asked for."""

    def __init__(self) -> None:
        self.penalties: list[tuple[str, float]] = []

    def interval(self, host: str, crawl_delay: float | None) -> float:
        return 2.0

    def reserve(self, host: str, interval: float, max_defer: float) -> tuple[float, str]:
        return 0.0, "lease"

    def release(self, lease: str, *, answered: bool) -> None:
        pass

    def penalize(self, host: str, seconds: float) -> None:
        self.penalties.append((host, seconds))


class AnsweringWith:
    def __init__(self, status: int, retry_after: float | None) -> None:
        self.status, self.retry_after = status, retry_after

    def fetch(self, url: str, **_: object) -> None:
        raise ServerError(f"{url} answered HTTP {self.status}", status=self.status, retry_after=self.retry_after)


@pytest.mark.parametrize(("status", "retry_after", "penalties"), [
    (425, 30.0, [("example.com", 30.0)]),  # listed: the host waits its Retry-After
    (503, None, [("example.com", 8.0)]),  # listed, no Retry-After: four intervals
    (429, 30.0, []),  # retried, but not listed here
])
def test_only_the_pushback_codes_pause_the_host(status: int, retry_after: float | None,
                                                penalties: list[tuple[str, float]]) -> None:
    gate = RecordingGate()
    polite = PoliteFetcher(fetcher=AnsweringWith(status, retry_after), gate=gate, robots=None,  # type: ignore[arg-type]
                           max_defer=60, wait_in_place=2, previous=lambda url: None,
                           pushback_http_codes=frozenset({425, 503}))
    with pytest.raises(ServerError):
        polite.fetch("https://example.com/a", "b")
    assert gate.penalties == penalties
