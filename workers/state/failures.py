"""Which recorded failures are worth another try: a timeout or a 503 may pass, a 404 or a rejected document will
not. ``readq retry`` queues only the first kind unless asked for both."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from workers.errors import (
    RETRYABLE_ERRORS,
    SKIP_ERRORS,
    ExtractError,
    FetchError,
    HTTPStatusError,
    IndexingError,
    error_classes,
    is_retryable_status,
)

#: Outcomes the task machinery records itself (tasks/base.py), beside the errors' own reasons.
TASK_FAILURE_REASONS = frozenset({"time_limit", "internal_error", "worker_lost"})
#: Failures that a later attempt may not repeat: the server, the network or readq's own processes were at fault.
TRANSIENT_REASONS = frozenset(
    {cls.reason for cls in RETRYABLE_ERRORS if not issubclass(cls, HTTPStatusError)}
    | {"worker_lost", "internal_error", "page_expired"}  # page_expired: records of the claim-check releases
)


def failure_reasons() -> frozenset[str]:
    """Every reason a URL can be recorded ``failed`` with (skips have reasons of their own)."""
    stage_reasons = {cls.reason for root in (FetchError, ExtractError, IndexingError) for cls in error_classes(root)}
    return frozenset(stage_reasons - {cls.reason for cls in SKIP_ERRORS}) | TASK_FAILURE_REASONS


def is_permanent(record: Mapping[str, Any], retry_http_codes: Collection[int]) -> bool:
    """True when retrying the failed URL would fail the same way (a 404, a rejected document...)."""
    reason = record.get("reason")
    if reason == HTTPStatusError.reason:
        status = record.get("http_status")
        return not (isinstance(status, int) and is_retryable_status(status, retry_http_codes))
    return reason not in TRANSIENT_REASONS
