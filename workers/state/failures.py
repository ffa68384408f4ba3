"""Which recorded failures are worth another try: a timeout or a 503 may pass, a 404 or a rejected document will
not. ``readq retry`` queues only the first kind unless asked for both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workers.errors import (
    RETRYABLE_ERRORS,
    SKIP_ERRORS,
    ExtractError,
    FetchError,
    HTTPStatusError,
    IndexingError,
    ReadqError,
)

#: Outcomes the task machinery records itself (tasks/base.py), beside the errors' own reasons.
TASK_FAILURE_REASONS = frozenset({"time_limit", "internal_error", "worker_lost"})
#: Failures that a later attempt may not repeat: the server, the network or readq's own processes were at fault.
TRANSIENT_REASONS = frozenset(
    {cls.reason for cls in RETRYABLE_ERRORS if not issubclass(cls, HTTPStatusError)}
    | {"worker_lost", "internal_error", "page_expired"}  # page_expired: records of the claim-check releases
)
#: HTTP answers that say "later" rather than "no" (as ServerError is raised for).
TRANSIENT_HTTP_STATUSES = frozenset({408, 429})


def _reasons(root: type[ReadqError]) -> set[str]:
    found = {root.reason}
    for sub in root.__subclasses__():
        found |= _reasons(sub)
    return found


def failure_reasons() -> frozenset[str]:
    """Every reason a URL can be recorded ``failed`` with (skips have reasons of their own)."""
    stage_reasons = _reasons(FetchError) | _reasons(ExtractError) | _reasons(IndexingError)
    return frozenset(stage_reasons - {cls.reason for cls in SKIP_ERRORS}) | TASK_FAILURE_REASONS


def is_permanent(record: Mapping[str, Any]) -> bool:
    """True when retrying the failed URL would fail the same way (a 404, a rejected document...)."""
    reason = record.get("reason")
    if reason == HTTPStatusError.reason:
        status = record.get("http_status")
        transient = isinstance(status, int) and (status >= 500 or status in TRANSIENT_HTTP_STATUSES)
        return not transient
    return reason not in TRANSIENT_REASONS
