from __future__ import annotations

import hashlib

import pytest

from workers.errors import RefusedURL
from workers.urls import domain_of, normalize_url, url_id


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTP://Example.COM:80/a/../b?z=1&a=2#top", "http://example.com/b?a=2&z=1"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("  https://example.com/path  ", "https://example.com/path"),
    ("https://example.com/?utm_source=x&id=7&fbclid=abc&gclid=1", "https://example.com/?id=7"),
    ("https://example.com/?q=a%20b", "https://example.com/?q=a+b"),
    ("https://münchen.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe"),
])
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("ftp://example.com/file", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("example.com/no-scheme", "scheme"),
    ("http:///path-only", "no_host"),
    ("https://user:secret@example.com/", "credentials"),
    ("https://user@example.com/", "credentials"),
    ("https://exa mple.com/", "invalid_characters"),
    ("https://example.com/\x00", "invalid_characters"),
    ("https://example.com:99999/", "malformed"),
    ("https://example.com/" + "a" * 9000, "too_long"),
])
def test_refused_urls_say_why(raw: str, reason: str) -> None:
    with pytest.raises(RefusedURL) as refused:
        normalize_url(raw)
    assert refused.value.reason == reason
    assert str(refused.value)


def test_url_id_is_sha256_of_the_normalised_url() -> None:
    assert url_id("http://example.com/") == hashlib.sha256(b"http://example.com/").hexdigest()
    assert url_id(normalize_url("HTTP://EXAMPLE.com:80")) == url_id("http://example.com/")


def test_domain_of() -> None:
    assert domain_of("https://News.Example.com:8080/x") == "news.example.com"
