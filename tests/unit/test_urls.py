from __future__ import annotations

import hashlib
import logging
import random
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.errors import RefusedURL
from workers.masking import MASKING_FILTER, mask_secrets
from workers.urls import MAX_URL_CHARS, _normalize_general, domain_of, normalize_url, url_id


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
    ("example.com/no-scheme", "no_scheme"),
    ("not a url", "no_scheme"),
    ("# a comment", "no_scheme"),
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


@pytest.mark.parametrize("url", ["https://News.Example.com:8080/x", "http://user:pw@news.example.com?q=1",
                                 "http://[::1]:8000/a#f", "HTTP://example.com", "http://xn--mnchen-3ya.de/ü",
                                 "mailto:someone@example.com", "not a url", ""])
def test_domain_of_is_what_urlsplit_says(url: str) -> None:
    assert domain_of(url) == (urlsplit(url).hostname or "").lower()
    assert domain_of(url) == domain_of(url)  # and the same from the cache


def _random_plain_url(rng: random.Random) -> str:
    """URLs of the characters the fast path takes, with the cases it must leave to the general one."""
    def word(alphabet: str = "aBz09-._~") -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
    scheme = rng.choice(["http", "https", "HTTP", "Https"])
    labels = ["News", "example", "com", "127", "0", "a-b", "a" * 63]
    unusual = ["xn--mnchen-3ya", "-a", "b-", "a" * 64]
    host = ".".join(rng.choice(unusual if rng.random() < 0.05 else labels) for _ in range(rng.randint(1, 4)))
    port = rng.choice(["", ":80", ":443", ":8080", ":1", ":65535", ":65536", ":99999"])
    path = rng.choice(["", "/"]) + "/".join(word() for _ in range(rng.randint(0, 4)))
    params = [rng.choice(["", "a", "A", "a-b", "a.b", "b", "utm_source", "UTM_Medium", "fbclid", "_ga", word()])
              + rng.choice(["", "=", "=1", "=x=y", "=" + word()]) for _ in range(rng.randint(0, 5))]
    query = rng.choice(["", "?" + "&".join(params)])
    fragment = rng.choice(["", "#", "#top", "#a/b?c"])
    return f"{scheme}://{host}{port}{path}{query}{fragment}"


def test_plain_urls_normalise_as_the_general_path_does() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        url = _random_plain_url(rng)
        try:
            expected = _normalize_general(url, url)
        except RefusedURL as exc:
            with pytest.raises(RefusedURL) as refused:
                normalize_url(url)
            assert refused.value.reason == exc.reason, url
        else:
            assert normalize_url(url) == expected, url


@pytest.mark.parametrize(("raw", "shown"), [
    ("http://user:secret@example.com/a", "http://***@example.com/a"),
    ("https://token@example.com/?next=//x@y", "https://***@example.com/?next=//x@y"),
    ("http://example.com/a@b", "http://example.com/a@b"),
    ("  //user:pw@example.com/", "  //***@example.com/"),
    ("Redis at redis://:PW@127.0.0.1:1/0 is unreachable", "Redis at redis://***@127.0.0.1:1/0 is unreachable"),
    ("from http://elastic:PW@es:9200 and rediss://u:PW@r/0", "from http://***@es:9200 and rediss://***@r/0"),
    ("redis://r:6379/0?password=PW&db=1", "redis://r:6379/0?password=***&db=1"),
])
def test_credentials_never_shown(raw: str, shown: str) -> None:
    assert mask_secrets(raw) == shown


_url_parts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_urls = st.one_of(
    st.text(max_size=80),
    st.builds(lambda scheme, host, port, path, query, fragment: f"{scheme}://{host}{port}/{path}?{query}#{fragment}",
              st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
              st.one_of(st.from_regex(r"[a-zA-Z0-9.-]{1,30}", fullmatch=True), _url_parts,
                        st.sampled_from(["[::1]", "[fe80::1%25eth0]", "127.0.0.1", "xn--bcher-kva.example",
                                         "bücher.example", "user:pw@host", "a..b", "-a.example"])),
              st.sampled_from(["", ":80", ":443", ":0", ":65536", ":8080", ":x"]),
              _url_parts, _url_parts, _url_parts),
)


@settings(max_examples=500, deadline=None)
@given(raw=_urls)
def test_normalisation_is_idempotent_and_only_refuses(raw: str) -> None:
    try:
        normalized = normalize_url(raw)
    except RefusedURL as refused:
        assert refused.reason and str(refused)
        return
    assert normalize_url(normalized) == normalized
    assert normalized.startswith(("http://", "https://")) and len(normalized) <= 3 * MAX_URL_CHARS


@pytest.mark.parametrize("raw", ["http://\xa0x/", "HTTP://\u00a8", "https://a\u3000b.example/"])
def test_a_host_that_encodes_to_whitespace_is_refused(raw: str) -> None:
    """Found by the property test: IDNA mapped these hosts to ones with a space, and the URL was accepted."""
    with pytest.raises(RefusedURL) as refused:
        normalize_url(raw)
    assert refused.value.reason in {"invalid_host", "malformed"}
    assert normalize_url("http://a\uff0eb/") == "http://a.b/"  # a full-width dot is still a dot


def test_worker_log_lines_are_masked_by_the_same_function() -> None:
    record = logging.LogRecord("readq", logging.WARNING, __file__, 1, "broker %s down; retrying %s", (
        "redis://:hunter2@10.0.0.5:6379/0", "http://user:pw@example.com/a"), None)

    assert MASKING_FILTER.filter(record) is True
    assert record.getMessage() == "broker redis://***@10.0.0.5:6379/0 down; retrying http://***@example.com/a"


@settings(max_examples=300, deadline=None)
@given(user=st.text(alphabet=st.characters(exclude_characters="/?#@", exclude_categories=["Cs", "Z", "Cc"]),
                    max_size=20),
       password=st.text(alphabet=st.characters(exclude_characters="/?#@", exclude_categories=["Cs", "Z", "Cc"]),
                        min_size=6, max_size=20),
       scheme=st.sampled_from(["redis", "rediss", "http", "https"]), before=st.sampled_from(["", "at ", "(", "'"]))
def test_no_password_survives_masking(user: str, password: str, scheme: str, before: str) -> None:
    text = f"{before}{scheme}://{user}:{password}@host.example:1/0 is unreachable"
    masked = mask_secrets(text)
    assert f"{scheme}://***@host.example:1/0" in masked
    assert f":{password}@" not in masked
