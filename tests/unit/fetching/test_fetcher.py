"""The fetcher against a real local HTTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from config.settings import Settings
from tests.support.httpserver import LocalSite
from workers.errors import (
    BlockedAddress,
    BodyTooLarge,
    FetchConnectionError,
    FetchTimeout,
    HTTPStatusError,
    RedirectRefused,
    ServerError,
    TooManyRedirects,
    UnsupportedContentType,
)
from workers.fetching import netguard
from workers.fetching.fetcher import Fetcher

PAGE = "/pages/news-de.html"


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as test_site:
        yield test_site


def make_fetcher(**overrides: object) -> Fetcher:
    options: dict[str, object] = {
        "user_agent": "readq-test", "connect_timeout": 2.0, "read_timeout": 2.0, "deadline": 5.0,
        "max_redirects": 3, "max_body_bytes": 1024 * 1024, "allow_private_networks": True,
        "retry_http_codes": frozenset({408, 429}),
    }
    options.update(overrides)
    return Fetcher(**options)  # type: ignore[arg-type]


def test_fetches_a_page_with_its_response_facts(site: LocalSite) -> None:
    page = make_fetcher().fetch(site.url(PAGE))
    assert page.status == 200
    assert page.final_url == site.url(PAGE)
    assert page.content_type.startswith("text/html")
    assert b"<html" in page.body.lower()


def test_gzip_bodies_are_decompressed(site: LocalSite) -> None:
    assert make_fetcher().fetch(site.url("/gzip/news-de.html")).body == make_fetcher().fetch(site.url(PAGE)).body


def test_redirects_are_followed_and_recorded(site: LocalSite) -> None:
    page = make_fetcher().fetch(site.url(f"/redirect?to={PAGE}&code=301"))
    assert page.final_url == site.url(PAGE)
    assert page.redirects == [site.url(PAGE)]


def test_redirect_loops_and_long_chains_stop(site: LocalSite) -> None:
    with pytest.raises(TooManyRedirects, match="loop"):
        make_fetcher().fetch(site.url("/loop/0"))
    with pytest.raises(TooManyRedirects, match="more than 3"):
        make_fetcher().fetch(site.url("/chain/0"))


def test_redirect_to_another_scheme_is_refused(site: LocalSite) -> None:
    with pytest.raises(RedirectRefused, match="scheme 'file' is not allowed"):
        make_fetcher().fetch(site.url("/redirect?to=file:///etc/passwd"))
    with pytest.raises(RedirectRefused, match="carries credentials") as refused:
        make_fetcher().fetch(site.url("/redirect?to=http://user:secret@127.0.0.1/"))
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(("path", "error", "status"), [
    ("/status/404", HTTPStatusError, 404), ("/status/410", HTTPStatusError, 410),
    ("/status/503", ServerError, 503), ("/status/429", ServerError, 429), ("/status/500", ServerError, 500),
])
def test_error_statuses_are_classified(site: LocalSite, path: str, error: type[Exception], status: int) -> None:
    with pytest.raises(error) as raised:
        make_fetcher().fetch(site.url(path))
    assert type(raised.value) is error
    assert raised.value.status == status  # type: ignore[attr-defined]


def test_the_retried_statuses_below_500_are_the_settings_ones(site: LocalSite) -> None:
    fetcher = make_fetcher(retry_http_codes=frozenset({404}))
    with pytest.raises(ServerError):
        fetcher.fetch(site.url("/status/404"))
    with pytest.raises(HTTPStatusError) as raised:
        fetcher.fetch(site.url("/status/429"))
    assert type(raised.value) is HTTPStatusError
    with pytest.raises(ServerError):
        fetcher.fetch(site.url("/status/503"))


def test_non_html_and_binary_content_is_refused(site: LocalSite) -> None:
    with pytest.raises(UnsupportedContentType, match="application/json"):
        make_fetcher().fetch(site.url("/json"))
    with pytest.raises(UnsupportedContentType):
        make_fetcher().fetch(site.url(f"{PAGE}?type=application/pdf"))


def test_body_cap_applies_to_declared_and_sent_bytes(site: LocalSite) -> None:
    with pytest.raises(BodyTooLarge, match="declares"):
        make_fetcher().fetch(site.url("/huge"))
    with pytest.raises(BodyTooLarge, match="sent more than"):
        make_fetcher(max_body_bytes=1000).fetch(site.url("/unsized/news-de.html"))


def test_slow_responses_time_out(site: LocalSite) -> None:
    with pytest.raises(FetchTimeout):
        make_fetcher(read_timeout=0.3).fetch(site.url(f"/slow/{PAGE.split('/')[-1]}?delay=2"))


def test_closed_port_is_a_connection_error() -> None:
    with pytest.raises(FetchConnectionError):
        make_fetcher().fetch("http://127.0.0.1:1/")


def test_private_addresses_are_blocked_before_connecting(site: LocalSite) -> None:
    hits = sum(site.hits.values())
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        make_fetcher(allow_private_networks=False).fetch(site.url(PAGE))
    assert sum(site.hits.values()) == hits


@pytest.mark.parametrize(("target", "blocked"), [
    ("http://127.0.0.2:{port}/pages/news-de.html", "127.0.0.2"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://news.example.test:{port}/pages/news-de.html", "127.0.0.3"),  # a public-looking name, resolving inside
])
def test_every_redirect_hop_is_checked(site: LocalSite, monkeypatch: pytest.MonkeyPatch, target: str,
                                       blocked: str) -> None:
    """127.0.0.1 stands in for a public address here; each redirect target stays private."""
    real_check, real_resolve = netguard.is_public_address, netguard.socket.getaddrinfo
    monkeypatch.setattr(netguard, "is_public_address", lambda a: a == "127.0.0.1" or real_check(a))
    monkeypatch.setattr(netguard.socket, "getaddrinfo", lambda host, port, *args, **kwargs: real_resolve(
        "127.0.0.3" if host == "news.example.test" else host, port, *args, **kwargs))
    location = target.format(port=site.server_address[1])
    with pytest.raises(BlockedAddress, match=blocked.replace(".", r"\.")):
        make_fetcher(allow_private_networks=False).fetch(site.url(f"/redirect?to={location}"))
    assert make_fetcher(allow_private_networks=False).fetch(site.url(PAGE)).status == 200


def test_no_cookie_travels_from_one_url_to_the_next(site: LocalSite) -> None:
    """90 cookies of 4 KB from one page made every later request of the host too large (HTTP 431)."""
    fetcher = make_fetcher()
    assert fetcher.fetch(site.url("/cookies/set?n=90&size=4000")).status == 200
    site.cookies_received.clear()
    assert fetcher.fetch(site.url("/cookies/echo?next=1")).status == 200
    assert fetcher.fetch(f"http://localhost:{site.server_address[1]}/cookies/echo?other=host").status == 200
    assert site.cookies_received == [None, None]
    assert len(fetcher.session.cookies) == 0


def test_cookies_are_carried_within_one_redirect_chain_and_bounded(site: LocalSite) -> None:
    fetcher = make_fetcher()
    site.cookies_received.clear()
    assert fetcher.fetch(site.url("/cookies/set?n=2&size=5&to=/cookies/echo?chain=1")).status == 200
    assert site.cookies_received == ["c0=vvvvv; c1=vvvvv"]
    site.cookies_received.clear()
    # 90 x 4 KB set on the way: a bounded few go on, so the page still answers (431 above 8 KB).
    assert fetcher.fetch(site.url("/cookies/set?n=90&size=4000&to=/cookies/echo?chain=2")).status == 200
    (received,) = site.cookies_received
    assert received is not None and received.startswith("c0=") and len(received) <= 8192


def test_a_cookie_for_a_parent_domain_is_not_kept(site: LocalSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Domain=.github.io`` from evil.github.io must not reach victim.github.io, even within one chain."""
    real_resolve = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real_resolve(
        "127.0.0.1" if str(host).endswith(".example.test") else host, *args, **kwargs))
    fetcher = make_fetcher()
    site.cookies_received.clear()
    port = site.server_address[1]
    victim = f"http://victim.example.test:{port}/cookies/echo?domain=1"
    fetcher.fetch(f"http://evil.example.test:{port}/cookies/set?n=1&domain=.example.test&to={victim}")
    fetcher.fetch(f"http://evil.example.test:{port}/cookies/set?n=1&to=/cookies/echo?domain=2")
    assert site.cookies_received == [None, "c0=vvvvvvvvvv"]


def test_a_redirect_to_an_overlong_url_is_refused(site: LocalSite) -> None:
    long_target = "/pages/news-de.html?q=" + "a" * 60_000
    hits = site.hits[long_target]
    with pytest.raises(RedirectRefused, match="more than 8192") as raised:
        make_fetcher().fetch(site.url(f"/redirect?to={long_target}"))
    assert raised.value.reason == "bad_redirect"
    assert site.hits[long_target] == hits
    assert make_fetcher().fetch(site.url("/redirect?to=/pages/news-de.html%3Fq%3Dshort")).status == 200


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                                    "http://100.100.100.200/latest/meta-data/", "http://0xa9fea9fe/"])
def test_allowing_private_networks_does_not_allow_metadata_addresses(site: LocalSite, target: str) -> None:
    fetcher = make_fetcher(allow_private_networks=True, connect_timeout=0.5)
    with pytest.raises(BlockedAddress, match="may not reach"):
        fetcher.fetch(site.url(f"/redirect?to={target}"))
    assert fetcher.fetch(site.url(PAGE)).status == 200  # the private test site itself is allowed


def test_allowed_networks_admit_only_the_listed_ones(site: LocalSite) -> None:
    listed = make_fetcher(allow_private_networks=False, allowed_networks=networks("127.0.0.0/8"))
    other = make_fetcher(allow_private_networks=False, allowed_networks=networks("10.0.0.0/8"))
    assert listed.fetch(site.url(PAGE)).status == 200
    with pytest.raises(BlockedAddress):
        other.fetch(site.url(PAGE))


def networks(text: str) -> tuple[object, ...]:
    """Networks as READQ_ALLOWED_NETWORKS spells them, parsed by the settings."""
    return tuple(Settings(_env_file=None, allowed_networks=text).allowed_networks)  # type: ignore[call-arg]
