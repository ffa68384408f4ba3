from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readq._extract import extract_source
from workers.errors import ReadqError, UnsupportedContentType
from workers.extraction.decoding import decode_html

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


ARTICLE = "".join(f"<p>Der Stadtrat beschließt heute Abend Nummer {i}: Fußgänger zuerst, Radfahrer danach, "
                  f"Autos zuletzt, so will es der Plan für die Innenstadt.</p>" for i in range(8))
NOT_TEXT_CODECS = ["undefined", "rot13", "zlib_codec", "base64", "hex_codec", "bz2_codec", "uu_codec"]


@pytest.mark.parametrize("label", NOT_TEXT_CODECS)
def test_a_charset_label_that_is_not_a_text_codec_is_ignored(label: str) -> None:
    """Latin-1 bytes (not valid UTF-8) labelled with a codec that does not decode bytes to text: the label is
    treated as unknown and detection decides, as with a misspelt one."""
    body = GERMAN.encode("latin-1")
    assert "beschließt: Fußgänger" in decode_html(body, f"text/html; charset={label}")
    meta = f'<html><head><meta charset="{label}"></head><body>{ARTICLE}</body></html>'.encode("latin-1")
    assert "beschließt heute Abend Nummer 7: Fußgänger" in decode_html(meta, "text/html")


def test_readq_extract_reads_a_file_whose_meta_charset_is_not_a_text_codec(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(f'<html><head><meta charset="base64"><title>Plan</title></head><body><article>{ARTICLE}'
                     f"</article></body></html>".encode("latin-1"))

    result = extract_source(str(page))

    assert "error" not in result, result
    assert "Fußgänger zuerst" in result["text"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2048), label=st.one_of(st.none(), st.sampled_from([
    *NOT_TEXT_CODECS, "utf-7", "utf-8", "utf-16", "utf-32", "iso-8859-2", "shift_jis", "bogus"]), st.text(max_size=30)))
def test_any_bytes_and_any_label_decode_to_text_or_a_readq_error(body: bytes, label: str | None) -> None:
    content_type = None if label is None else f"text/html; charset={label}"
    for html in (body, f'<meta charset="{label}">'.encode("utf-8", "surrogatepass") + body):
        try:
            text = decode_html(html, content_type)
        except ReadqError:
            continue
        assert isinstance(text, str)
