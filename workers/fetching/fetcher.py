"""The safe fetcher: one HTTP GET with timeouts, a deadline, a redirect limit, a body cap and address checks.

Only this module touches ``requests`` and ``urllib3``; their errors leave it as :mod:`workers.errors` types.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import cast
from urllib.parse import urljoin, urlsplit
from urllib.request import Request

import requests
import urllib3.exceptions
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar

from config.settings import Settings
from workers.errors import (
    BodyTooLarge,
    FetchConnectionError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RedirectRefused,
    ServerError,
    TooManyRedirects,
    UnsupportedContentType,
    is_retryable_status,
)
from workers.fetching.netguard import AddressPolicy, GuardedAdapter, IPNetwork
from workers.masking import mask_secrets
from workers.urls import ALLOWED_SCHEMES, MAX_URL_CHARS

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
NOT_MODIFIED = 304
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
# Cookies live only as long as one fetch's redirect chain (a consent or session cookie set on the way to the
# page), and only this many of them: a server cannot make the next request's headers too large to answer.
MAX_CHAIN_COOKIES = 20
MAX_CHAIN_COOKIE_BYTES = 4096


@dataclass(frozen=True)
class FetchedPage:
    """What the fetch stage hands on: the raw body and the response facts extraction needs."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: str
    elapsed_ms: int
    redirects: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _NoCookies(DefaultCookiePolicy):
    """The policy of the worker-wide session's jar: nothing is stored, so nothing travels from one URL (or site)
    to the next."""

    def set_ok(self, cookie: Cookie, request: Request) -> bool:
        return False


class _HostOnly(DefaultCookiePolicy):
    """Within one redirect chain: a cookie is kept for the host that set it, never for a parent domain
    (``Domain=.github.io`` set by one site would reach every other site there)."""

    def set_ok(self, cookie: Cookie, request: Request) -> bool:
        host = urlsplit(request.get_full_url()).hostname or ""
        return super().set_ok(cookie, request) and cookie.domain.lstrip(".") == host


def _keep_chain_cookies(jar: RequestsCookieJar, response: requests.Response) -> None:
    """Add the response's cookies to the chain's jar, then drop what passes the chain's bounds."""
    extract_cookies_to_jar(jar, response.request, response.raw)  # type: ignore[no-untyped-call]
    size = 0
    for count, cookie in enumerate(list(cast("Iterable[Cookie]", jar)), 1):
        size += len(cookie.name) + len(cookie.value or "") + 2
        if count > MAX_CHAIN_COOKIES or size > MAX_CHAIN_COOKIE_BYTES:
            jar.clear(cookie.domain, cookie.path, cookie.name)


def _redirect_refusal(target: str) -> str | None:
    """Why the producer would refuse a redirect target (so the fetcher does not follow it), or None."""
    parts = urlsplit(target)
    if parts.scheme not in ALLOWED_SCHEMES:
        return f"scheme {parts.scheme!r} is not allowed (http and https only)"
    if len(target) > MAX_URL_CHARS:
        return f"URL is {len(target)} characters, more than {MAX_URL_CHARS}"
    if "@" in parts.netloc:
        return "URL carries credentials (user:password@)"
    return None


@contextmanager
def map_requests_exceptions(url: str) -> Iterator[None]:
    """Translate requests/urllib3 errors into readq's fetch errors."""
    try:
        yield
    except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError) as exc:
        raise FetchTimeout(f"timed out fetching {url}: {exc}") from exc
    except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as exc:
        raise FetchConnectionError(f"TLS failure for {url}: {exc}") from exc
    except (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError) as exc:
        raise FetchError(f"undecodable content-encoding from {url}: {exc}") from exc
    except (
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        OSError,
    ) as exc:
        raise FetchConnectionError(f"connection to {url} failed: {exc}") from exc
    except requests.exceptions.RequestException as exc:
        raise FetchError(f"request for {url} failed: {exc}") from exc


class Fetcher:
    """Fetches one HTML page safely. Thread-safe: one instance serves every thread of a fetch worker."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float,
        read_timeout: float,
        deadline: float,
        max_redirects: int,
        max_body_bytes: int,
        allow_private_networks: bool = False,
        allowed_networks: tuple[IPNetwork, ...] = (),
        pool_size: int = 64,
        retry_http_codes: frozenset[int],
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.deadline = deadline
        self.max_redirects = max_redirects
        self.max_body_bytes = max_body_bytes
        self.retry_http_codes = retry_http_codes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc from the environment
        self.session.cookies.set_policy(_NoCookies())
        self.session.headers.update(
            {"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
        )
        # Every connection goes through the address guard, private networks allowed or not: metadata addresses
        # stay blocked unless a network in allowed_networks names them.
        adapter = GuardedAdapter(AddressPolicy(allow_private_networks, allowed_networks),
                                 pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        return cls(
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            deadline=settings.fetch_deadline,
            max_redirects=settings.max_redirects,
            max_body_bytes=settings.max_body_bytes,
            allow_private_networks=settings.allow_private_networks,
            allowed_networks=settings.allowed_networks,
            pool_size=settings.fetch_concurrency,
            retry_http_codes=settings.retry_http_codes,
        )

    def fetch(
        self, url: str, *, accept: frozenset[str] | None = HTML_TYPES, etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedPage:
        """GET ``url``. ``accept`` lists the media types wanted (None: any). With a validator from an earlier
        fetch, the request is conditional and an unchanged page comes back as status 304 with no body."""
        started = time.monotonic()
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        redirects: list[str] = []
        cookies = RequestsCookieJar(policy=_HostOnly())
        current = url
        while True:
            with map_requests_exceptions(current):
                response = self.session.get(current, stream=True, allow_redirects=False, timeout=self.timeout,
                                            headers=headers, cookies=cookies)
            with response:
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    _keep_chain_cookies(cookies, response)
                    current = self._next_hop(current, location, redirects)
                    continue
                if response.status_code == NOT_MODIFIED and headers:
                    content_type, body = response.headers.get("Content-Type", ""), b""
                else:
                    self._check_status(current, response)
                    content_type = self._check_content_type(current, response.headers.get("Content-Type", ""),
                                                            accept)
                    body = self._read_body(current, response, started)
            return FetchedPage(
                url=url,
                final_url=current,
                status=response.status_code,
                content_type=content_type,
                body=body,
                fetched_at=fetched_at,
                elapsed_ms=round((time.monotonic() - started) * 1000),
                redirects=redirects,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )

    def _next_hop(self, current: str, location: str, redirects: list[str]) -> str:
        target = urljoin(current, location)
        refusal = _redirect_refusal(target)
        if refusal:
            raise RedirectRefused(mask_secrets(f"{current} redirects to {target[:200]}: {refusal}"))
        if target == current or target in redirects:
            raise TooManyRedirects(f"redirect loop at {target}")
        redirects.append(target)
        if len(redirects) > self.max_redirects:
            raise TooManyRedirects(f"more than {self.max_redirects} redirects from {redirects[0]}")
        return target

    def _check_status(self, url: str, response: requests.Response) -> None:
        status = response.status_code
        if is_retryable_status(status, self.retry_http_codes):
            raise ServerError(f"{url} answered HTTP {status}", status=status,
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise HTTPStatusError(f"{url} answered HTTP {status}", status=status)
        if status != 200:
            raise HTTPStatusError(f"{url} answered HTTP {status} without a page", status=status)

    @staticmethod
    def _check_content_type(url: str, header: str, accept: frozenset[str] | None) -> str:
        media_type = header.split(";", 1)[0].strip().lower()
        if accept is not None and media_type and media_type not in accept:
            raise UnsupportedContentType(f"{url} is {media_type}, not {' or '.join(sorted(accept))}")
        return header

    def _read_body(self, url: str, response: requests.Response, started: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge(f"{url} declares {declared} bytes, over the {self.max_body_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        with map_requests_exceptions(url):
            # read1: what has arrived, at most CHUNK_BYTES, so that a server that sends a byte at a time (never
            # idle long enough for the read timeout) still meets the deadline; stream() would wait for a full chunk.
            while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise BodyTooLarge(f"{url} sent more than {self.max_body_bytes} bytes (decompressed)")
                if time.monotonic() - started > self.deadline:
                    raise FetchTimeout(f"{url} took longer than the {self.deadline:g} s deadline")
                chunks.append(chunk)
        return b"".join(chunks)
