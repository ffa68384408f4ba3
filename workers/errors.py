"""Every error readq's stages raise, one hierarchy; each class says what its outcome is: ``retryable`` (retried with
backoff, then ``failed``), ``outcome`` ``skipped`` (not indexable) or, by default, ``failed`` at once.

    ReadqError
    ├── RefusedURL                 producer: a URL that is not queued (reason attribute)
    ├── ServiceUnavailable         client: Redis or Elasticsearch does not answer
    ├── KibanaImportError          setup: Kibana refused the saved objects
    ├── IndexMissing               client: no index behind an alias (readq setup has not run)
    ├── FetchError                 fetch stage
    │   ├── BlockedAddress         skipped: the host resolves to a private, loopback, link-local... address
    │   ├── RobotsDisallowed       skipped: robots.txt forbids the URL to readq's user agent
    │   ├── RobotsUnavailable      retryable: robots.txt answered 5xx or timed out
    │   ├── FetchTimeout           retryable: connect or read timeout, or the whole-response deadline
    │   ├── FetchConnectionError   retryable: DNS failure, refused or reset connection, TLS failure
    │   ├── TooManyRedirects
    │   ├── RedirectRefused        a redirect to a URL the producer would refuse (scheme, length, credentials...)
    │   ├── BodyTooLarge           skipped
    │   ├── UnsupportedContentType skipped
    │   └── HTTPStatusError        a 4xx or 5xx answer (status attribute)
    │       └── ServerError        retryable: 5xx or one of READQ_RETRY_HTTP_CODES (408, 429)
    ├── ExtractError               extract stage
    │   ├── MemoryLimitExceeded    the extraction process passed its memory limit on the page
    │   ├── ExtractProcessLost     retryable: the extraction process died otherwise (a crash, a kill)
    │   ├── ExtractTimeout         the page took longer than the extractor's time budget
    │   └── NoReadableContent      skipped
    └── IndexingError              index stage
        ├── ElasticsearchUnavailable  retryable
        ├── DocumentRejected       Elasticsearch refused this document alone
        └── DuplicateContent       skipped: the text duplicates an indexed page (READQ_SKIP_DUPLICATES)
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, ClassVar, Literal

from workers.masking import mask_secrets


class ReadqError(Exception):
    """Root of readq's errors. ``reason`` is a short machine-readable slug."""

    reason = "error"
    stage: str | None = None  # the pipeline stage that raised it, for the URL's record; None: the task's own
    retryable: ClassVar[bool] = False  # the task retries it with backoff (then records it as failed)
    outcome: ClassVar[Literal["failed", "skipped"]] = "failed"  # skipped: "not indexable" rather than "broken"

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery pickles a task's exception before on_failure sees it; without this, an error whose
        # constructor takes more than the message would arrive there as its nearest picklable base class.
        return _restore, (type(self), str(self), self.__dict__)


def _restore(cls: type[ReadqError], message: str, state: dict[str, Any]) -> ReadqError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class RefusedURL(ReadqError):
    """Raised by the producer for a URL it will not queue."""

    def __init__(self, url: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class KibanaImportError(ReadqError):
    """Raised by ``readq setup`` when Kibana refuses the saved objects, or the request for them."""

    reason = "kibana_import"


class IndexMissing(ReadqError):
    """Raised by readq's client when Elasticsearch has no index behind one of readq's aliases."""

    reason = "index_missing"


class FetchError(ReadqError):
    """Raised by the fetch stage."""

    reason = "fetch_error"
    stage = "fetch"


class BlockedAddress(FetchError):
    """Raised by the fetch stage when a host resolves to an address readq must not reach."""

    reason = "blocked_address"
    outcome = "skipped"


class RobotsDisallowed(FetchError):
    """Raised by the fetch stage when the host's robots.txt disallows the URL."""

    reason = "robots"
    outcome = "skipped"


class RobotsUnavailable(FetchError):
    """Raised by the fetch stage when robots.txt cannot be read now (5xx, timeout): the host is retried later."""

    reason = "robots_unavailable"
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchTimeout(FetchError):
    """Raised by the fetch stage on a connect or read timeout or when the response deadline passes."""

    reason = "timeout"
    retryable = True


class FetchConnectionError(FetchError):
    """Raised by the fetch stage when no connection could be made or it broke."""

    reason = "connection_error"
    retryable = True


class TooManyRedirects(FetchError):
    """Raised by the fetch stage past the redirect limit, or on a redirect loop."""

    reason = "too_many_redirects"


class RedirectRefused(FetchError):
    """Raised by the fetch stage for a redirect to a URL readq would not have queued (scheme, length, credentials,
    control characters)."""

    reason = "bad_redirect"


class BodyTooLarge(FetchError):
    """Raised by the fetch stage when the body exceeds the byte cap."""

    reason = "too_large"
    outcome = "skipped"


class UnsupportedContentType(FetchError):
    """Raised by the fetch stage for a response that is not HTML or XHTML."""

    reason = "content_type"
    outcome = "skipped"


class HTTPStatusError(FetchError):
    """Raised by the fetch stage for a 4xx or 5xx response."""

    reason = "http_status"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


class ServerError(HTTPStatusError):
    """Raised by the fetch stage for a 5xx response or one of READQ_RETRY_HTTP_CODES: the server may answer later."""

    retryable = True


def is_retryable_status(status: int, retry_http_codes: Collection[int]) -> bool:
    """Whether an HTTP answer says "later" rather than "no": every 5xx, and the codes READQ_RETRY_HTTP_CODES lists."""
    return status >= 500 or status in retry_http_codes


class ExtractError(ReadqError):
    """Raised by the extract stage."""

    reason = "extract_error"
    stage = "extract"


class MemoryLimitExceeded(ExtractError):
    """Raised when the process extracting a page runs out of memory or passes READQ_EXTRACT_MEMORY_LIMIT_MB."""

    reason = "memory_limit"


class ExtractProcessLost(ExtractError):
    """Raised when the process extracting a page died for another reason (a crash, a signal): worth retrying,
    and a page that kills it every time ends as ``failed: worker_lost``."""

    reason = "worker_lost"
    retryable = True


class ExtractTimeout(ExtractError):
    """Raised by the extract stage when a page takes longer than the extractor's time budget: final, the same page
    would take as long again."""

    reason = "timeout"


class NoReadableContent(ExtractError):
    """Raised by the extract stage for a page with no article text worth indexing."""

    reason = "no_readable_content"
    outcome = "skipped"


class IndexingError(ReadqError):
    """Raised by the index stage."""

    reason = "index_error"
    stage = "index"


class ElasticsearchUnavailable(IndexingError):
    """Raised by the index stage when the whole _bulk request failed: worth retrying."""

    reason = "elasticsearch_unavailable"
    retryable = True


class DocumentRejected(IndexingError):
    """Raised by the index stage when Elasticsearch refused this one document of a _bulk request."""

    reason = "document_rejected"


class DuplicateContent(IndexingError):
    """Raised by the index stage, with READQ_SKIP_DUPLICATES, for a page whose text duplicates another's."""

    reason = "duplicate"
    outcome = "skipped"

    def __init__(self, message: str, *, original: str) -> None:
        super().__init__(message)
        self.original = original


class ServiceUnavailable(ReadqError):
    """Raised by readq's client when Redis or Elasticsearch does not answer: readq itself cannot work."""

    reason = "service_unavailable"

    def __init__(self, service: str, url: str, detail: str) -> None:
        super().__init__(mask_secrets(f"{service} at {url} is unreachable: {detail}"))
        self.service = service
        self.url = mask_secrets(url)


def error_classes(root: type[ReadqError] = ReadqError) -> Iterator[type[ReadqError]]:
    """``root`` and every class below it."""
    yield root
    for sub in root.__subclasses__():
        yield from error_classes(sub)


#: What Celery's autoretry_for and the task's except clause take: the classes that say so of themselves.
RETRYABLE_ERRORS = tuple(cls for cls in error_classes() if cls.retryable)
SKIP_ERRORS = tuple(cls for cls in error_classes() if cls.outcome == "skipped")
