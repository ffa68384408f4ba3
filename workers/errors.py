"""Every error readq's stages raise, one hierarchy.

    ReadqError
    ├── RefusedURL                 producer: a URL that is not queued (reason attribute)
    ├── ServiceUnavailable         client: Redis or Elasticsearch does not answer
    ├── KibanaImportError          setup: Kibana refused the saved objects
    ├── IndexMissing               client: no index behind an alias (readq setup has not run)
    ├── FetchError                 fetch stage
    │   ├── BlockedAddress         the host resolves to a private, loopback, link-local... address
    │   ├── RobotsDisallowed       robots.txt forbids the URL to readq's user agent
    │   ├── RobotsUnavailable      robots.txt answered 5xx or timed out: try later
    │   ├── FetchTimeout           connect or read timeout, or the whole-response deadline
    │   ├── FetchConnectionError   DNS failure, refused or reset connection, TLS failure
    │   ├── TooManyRedirects
    │   ├── RedirectRefused        a redirect to a URL the producer would refuse (scheme, length, credentials...)
    │   ├── BodyTooLarge
    │   ├── UnsupportedContentType
    │   └── HTTPStatusError        a 4xx or 5xx answer (status attribute)
    │       └── ServerError        5xx, 408 or 429: worth retrying
    ├── ExtractError               extract stage
    │   ├── MemoryLimitExceeded    the extraction process passed its memory limit on the page
    │   ├── ExtractProcessLost     the extraction process died otherwise (a crash, a kill): worth retrying
    │   ├── ExtractTimeout         the page took longer than the extractor's time budget
    │   └── NoReadableContent
    └── IndexingError              index stage
        ├── ElasticsearchUnavailable
        ├── DocumentRejected       Elasticsearch refused this document alone
        └── DuplicateContent       the text duplicates an indexed page (READQ_SKIP_DUPLICATES)
"""

from __future__ import annotations

from typing import Any

from workers.masking import mask_secrets


class ReadqError(Exception):
    """Root of readq's errors. ``reason`` is a short machine-readable slug."""

    reason = "error"
    stage: str | None = None  # the pipeline stage that raised it, for the URL's record; None: the task's own

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


class RobotsDisallowed(FetchError):
    """Raised by the fetch stage when the host's robots.txt disallows the URL."""

    reason = "robots"


class RobotsUnavailable(FetchError):
    """Raised by the fetch stage when robots.txt cannot be read now (5xx, timeout): the host is retried later."""

    reason = "robots_unavailable"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchTimeout(FetchError):
    """Raised by the fetch stage on a connect or read timeout or when the response deadline passes."""

    reason = "timeout"


class FetchConnectionError(FetchError):
    """Raised by the fetch stage when no connection could be made or it broke."""

    reason = "connection_error"


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


class UnsupportedContentType(FetchError):
    """Raised by the fetch stage for a response that is not HTML or XHTML."""

    reason = "content_type"


class HTTPStatusError(FetchError):
    """Raised by the fetch stage for a 4xx or 5xx response."""

    reason = "http_status"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


class ServerError(HTTPStatusError):
    """Raised by the fetch stage for a 5xx, 408 or 429 response: the server may answer later."""


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


class ExtractTimeout(ExtractError):
    """Raised by the extract stage when a page takes longer than the extractor's time budget: final, the same page
    would take as long again."""

    reason = "timeout"


class NoReadableContent(ExtractError):
    """Raised by the extract stage for a page with no article text worth indexing."""

    reason = "no_readable_content"


class IndexingError(ReadqError):
    """Raised by the index stage."""

    reason = "index_error"
    stage = "index"


class ElasticsearchUnavailable(IndexingError):
    """Raised by the index stage when the whole _bulk request failed: worth retrying."""

    reason = "elasticsearch_unavailable"


class DocumentRejected(IndexingError):
    """Raised by the index stage when Elasticsearch refused this one document of a _bulk request."""

    reason = "document_rejected"


class DuplicateContent(IndexingError):
    """Raised by the index stage, with READQ_SKIP_DUPLICATES, for a page whose text duplicates another's."""

    reason = "duplicate"

    def __init__(self, message: str, *, original: str) -> None:
        super().__init__(message)
        self.original = original


#: Errors a task retries with backoff; every other ReadqError is final at once.
RETRYABLE_ERRORS: tuple[type[ReadqError], ...] = (
    FetchTimeout,
    FetchConnectionError,
    ServerError,
    RobotsUnavailable,
    ExtractProcessLost,
    ElasticsearchUnavailable,
)

#: Final outcomes that mean "not indexable" rather than "broken": recorded as skipped, not failed.
SKIP_ERRORS: tuple[type[ReadqError], ...] = (
    BlockedAddress, RobotsDisallowed, UnsupportedContentType, BodyTooLarge, NoReadableContent, DuplicateContent,
)


class ServiceUnavailable(ReadqError):
    """Raised by readq's client when Redis or Elasticsearch does not answer: readq itself cannot work."""

    reason = "service_unavailable"

    def __init__(self, service: str, url: str, detail: str) -> None:
        super().__init__(mask_secrets(f"{service} at {url} is unreachable: {detail}"))
        self.service = service
        self.url = mask_secrets(url)
