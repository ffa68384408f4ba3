"""Bytes to text the way a browser would: BOM, then the HTTP charset, then the document's own, then detection."""

from __future__ import annotations

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode

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
    _encoding, text = html_to_unicode(content_type or None, body, auto_detect_fun=_detect_encoding)
    return text


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
