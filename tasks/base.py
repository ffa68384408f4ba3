"""``ReadqTask``: what every stage's task shares: retries for transient errors only, and a recorded outcome.

Every readq task takes ``(url, batch, ...)`` so that its outcome can be recorded against the URL whatever
happens: a skip (not indexable) is recorded and the task succeeds; a readq error left after the retries (a 404,
a server still failing) is recorded as ``failed`` with its reason and the number of attempts, and the task succeeds
too, since that outcome is expected and in readq's status (Flower then shows failures that are readq's own bugs
only); anything else fails the task and is recorded as ``failed: internal_error``.
"""

from __future__ import annotations

from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task
from celery.exceptions import Retry

from config.settings import get_settings
from tasks.lifecycle import get_runtime
from workers.errors import RETRYABLE_ERRORS, SKIP_ERRORS, MemoryLimitExceeded, ReadqError
from workers.state.progress import State
from workers.urls import url_id

_settings = get_settings()
REDELIVERY_MEMORY_SECONDS = 86400


class ReadqTask(Task):  # type: ignore[misc]
    abstract = True
    acks_late = True
    ignore_result = True
    autoretry_for = RETRYABLE_ERRORS
    throws = (ReadqError,)  # expected failures: recorded, logged without a traceback
    max_retries = _settings.max_retries
    retry_backoff = True
    # A countdown must stay shorter than the visibility timeout, or Redis redelivers the waiting task.
    retry_backoff_max = min(_settings.retry_backoff_max, _settings.visibility_timeout // 2)
    retry_jitter = True
    stage = "unknown"

    def __call__(self, url: str, batch: str, *args: Any, **kwargs: Any) -> Any:
        if self._redelivered_too_often():
            error = (f"the worker died {_settings.max_redeliveries + 1} times while handling this URL (killed by "
                     "the system or an operator, or a crash)")
            get_runtime().recorder.record(url, batch, State.FAILED, stage=self.stage, reason="worker_lost",
                                          error=error, attempts=self.request.retries + 1)
            return {"state": State.FAILED.value, "reason": "worker_lost"}
        try:
            return self.run(url, batch, *args, **kwargs)
        except SKIP_ERRORS as exc:
            get_runtime().recorder.record(url, batch, State.SKIPPED, stage=stage_of(exc, self.stage), reason=exc.reason,
                                          error=str(exc))
            return {"state": State.SKIPPED.value, "reason": exc.reason}
        except Retry:
            raise
        except ReadqError as exc:  # permanent, or transient with no retry left (autoretry re-raises it then)
            return self._failed(url, batch, exc)
        except MemoryError:
            # Celery re-raises a task's MemoryError in the worker's main process, which stops the whole worker;
            # recorded here it fails this URL alone (the page's objects are already freed by now).
            return self._failed(url, batch, MemoryLimitExceeded("the worker ran out of memory handling this page"))

    def _failed(self, url: str, batch: str, exc: ReadqError) -> dict[str, str]:
        get_runtime().recorder.record(url, batch, State.FAILED, stage=stage_of(exc, self.stage), reason=exc.reason,
                                      error=str(exc) or repr(exc), attempts=self.request.retries + 1,
                                      http_status=getattr(exc, "status", None))
        return {"state": State.FAILED.value, "reason": exc.reason}

    def _redelivered_too_often(self) -> bool:
        """True when Redis gave this attempt back more than READQ_MAX_REDELIVERIES times (its worker died each
        time: a poison page). Counted only on redelivery, so the normal path costs nothing."""
        if not (self.request.delivery_info or {}).get("redelivered"):
            return False
        key = f"{_settings.redis_prefix}redelivered:{self.request.id}:{self.request.retries}"
        with get_runtime().redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, REDELIVERY_MEMORY_SECONDS)
            redeliveries = int(pipe.execute()[0])
        return redeliveries > _settings.max_redeliveries

    def retry(self, *args: Any, exc: BaseException | None = None, countdown: float | None = None,
              **kwargs: Any) -> Any:
        """Celery's retry, waiting at least as long as the error asks (Retry-After, robots.txt try-later)."""
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            countdown = min(max(asked, countdown or 0), self.retry_backoff_max)
        if exc is not None and self.max_retries is not None and self.request.retries < self.max_retries:
            url, batch = self.request.args[0], self.request.args[1]  # what `readq get URL` says while it waits
            get_runtime().retries.record(url, url_id(url), batch, stage=stage_of(exc, self.stage),
                                         reason=failure_reason(exc),
                                         error=str(exc) or repr(exc), attempt=self.request.retries + 1,
                                         countdown=countdown or 0)
        return super().retry(*args, exc=exc, countdown=countdown, **kwargs)

    def on_failure(
        self, exc: Exception, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any], einfo: ExceptionInfo
    ) -> None:
        url, batch = args[0], args[1]
        get_runtime().recorder.record(
            url, batch, State.FAILED, stage=stage_of(exc, self.stage), reason=failure_reason(exc),
            error=str(exc) or repr(exc),
            attempts=self.request.retries + 1, http_status=getattr(exc, "status", None),
        )


def failure_reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, ReadqError) else "internal_error"


def stage_of(exc: BaseException, default: str) -> str:
    """The stage a readq error names itself, else the task's."""
    return (exc.stage if isinstance(exc, ReadqError) else None) or default
