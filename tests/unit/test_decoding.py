import pytest

from workers.decoding import decode_html
from workers.errors import UnsupportedContentType

GERMAN = "<html><body><p>Der Stadtrat beschließt: Fußgänger zuerst.</p></body></html>"


@pytest.mark.parametrize("content_type", [
    "text/html; charset=utf-8",
    "text/html; charset=iso-8859-7",  # a lie: the bytes are UTF-8
    "text/html; charset=bogus-8",  # no such encoding
    "text/html",
    None,
])
def test_utf8_bytes_read_as_utf8_whatever_is_declared(content_type: str | None) -> None:
    assert "beschließt: Fußgänger" in decode_html(GERMAN.encode(), content_type)


def test_legacy_bytes_follow_the_declared_charset() -> None:
    assert "beschließt: Fußgänger" in decode_html(GERMAN.encode("latin-1"), "text/html; charset=iso-8859-1")


def test_binary_served_as_html_is_refused() -> None:
    with pytest.raises(UnsupportedContentType, match="binary"):
        decode_html(bytes(range(256)) * 16, "text/html")
