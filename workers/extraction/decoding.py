"""Bytes to text the way a browser would: BOM, then the HTTP charset, then the document's own, then detection."""

from __future__ import annotations

import codecs
from functools import lru_cache

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, to_unicode

from workers.errors import UnsupportedContentType

SNIFF_BYTES = 4096
DETECT_BYTES = 65536
CHAOS_TIE = 0.01  # guesses whose mess ratios differ by less are equally clean
MAX_CONTROL_SHARE = 0.05  # more control bytes than this at the start: binary served as text/html


def decode_html(body: bytes, content_type: str | None) -> str:
    _check_not_binary(body)
    if not body.isascii():
        try:
            # Bytes that are valid UTF-8 and not ASCII are UTF-8 whatever a header or <meta> claims: legacy
            # 8-bit text almost never forms valid multi-byte sequences, while mislabelled UTF-8 pages are common.
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    # w3lib's html_to_unicode order (BOM, HTTP charset, <meta>, detection), except that a label naming a codec
    # that does not decode bytes to text (base64, rot13, zlib_codec, undefined...) counts as no label.
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return to_unicode(body[len(bom):], bom_encoding)
    encoding = (_text_codec(http_content_type_encoding(content_type or None))
                or _text_codec(html_body_declared_encoding(body)) or _detect_encoding(body) or "utf-8")
    if encoding in {"utf-16", "utf-32"}:
        encoding += "-be"
    return to_unicode(body, encoding)


@lru_cache(maxsize=256)
def _text_codec(encoding: str | None) -> str | None:
    """``encoding`` if it decodes bytes to text, else None."""
    if encoding is None:
        return None
    try:
        if codecs.lookup(encoding)._is_text_encoding:
            b"<p>".decode(encoding, "replace")  # "undefined" is a text codec that always raises
            return encoding
    except (LookupError, UnicodeError, ValueError, TypeError):
        pass
    return None


def _detect_encoding(body: bytes) -> str | None:
    """charset-normalizer's guess; among equally clean guesses, the one that reads as the most letters (an
    undeclared ISO-8859-2 page decodes as cp1252 without chaos too, but with "³" where "ł" belongs)."""
    matches = list(from_bytes(body[:DETECT_BYTES]))
    if not matches:
        return None
    cleanest = min(match.chaos for match in matches)
    tied = [match for match in matches if match.chaos <= cleanest + CHAOS_TIE]
    return max(tied, key=lambda match: sum(char.isalpha() for char in str(match))).encoding


def _check_not_binary(body: bytes) -> None:
    head = body[:SNIFF_BYTES]
    if not head:
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOM: NULs are expected
        return
    control = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    if control / len(head) > MAX_CONTROL_SHARE:
        raise UnsupportedContentType("body is binary data, not text, despite its HTML content type")
