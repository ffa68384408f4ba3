"""reading_form: what extraction and the query parser both apply to text before it is indexed or searched."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from workers.extraction.text import SOFT_HYPHEN, reading_form

_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
_hyphenated = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
                       ).map(SOFT_HYPHEN.join)


@given(_hyphenated)
def test_reading_form_is_composed_without_soft_hyphens(text: str) -> None:
    read = reading_form(text)
    assert SOFT_HYPHEN not in read
    assert unicodedata.is_normalized("NFC", read)
    assert reading_form(read) == read
    assert read == unicodedata.normalize("NFC", text.replace(SOFT_HYPHEN, ""))


@given(_texts)
def test_reading_form_keeps_every_visible_character(text: str) -> None:
    """Nothing but soft hyphens goes: the composed text decomposes back to the decomposed original's letters."""
    read = reading_form(text)
    assert unicodedata.normalize("NFD", read) == unicodedata.normalize("NFD", text.replace(SOFT_HYPHEN, ""))


def test_decomposed_and_hyphenated_word_reads_as_typed() -> None:
    assert reading_form("Ha\u0308u\u00adser") == "Häuser"
    assert reading_form("Häuser") == "Häuser"
