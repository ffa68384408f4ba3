"""Metadata from hostile JSON-LD: any structure in, metadata (maybe empty) out, never the page's text lost."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers.extraction.extractor import Extractor
from workers.extraction.metadata import PageMetadata, read_metadata
from workers.extraction.parsing import parse_html

PARAGRAPHS = "".join(f"<p>The harbour council met on Tuesday evening, item {i}, and agreed a budget for the "
                     f"river bridge, the station and the library after a long debate.</p>" for i in range(6))


def _page(json_ld: str) -> str:
    return (f'<html lang="en"><head><title>Harbour budget agreed</title><script type="application/ld+json">'
            f"{json_ld}</script></head><body><article><h1>Harbour budget agreed</h1>{PARAGRAPHS}</article>"
            f"</body></html>")


@pytest.mark.parametrize("json_ld", [
    '{"a":' * 100_000 + "1" + "}" * 100_000,  # nested objects: RecursionError in json.loads
    "[" * 200_000 + "]" * 200_000,  # nested arrays
    '{"@type": "NewsArticle", "headline": "Deep", "@graph": ' + "[" * 900 + "]" * 900 + "}",  # under json's limit
    '{"@type": "NewsArticle", "author": ' + '{"name": ' * 900 + '"Ann"' + "}" * 900 + "}",
])
def test_deep_json_ld_costs_the_metadata_not_the_text(json_ld: str) -> None:
    extraction = Extractor(min_text_chars=200).extract(_page(json_ld), "http://news.example.test/a")

    assert "agreed a budget for the river bridge" in extraction.text
    assert extraction.metadata.title == "Harbour budget agreed"


def test_json_ld_within_the_depth_bound_is_still_read() -> None:
    article = {"@type": "NewsArticle", "headline": "Harbour budget agreed", "author": [[{"name": "Ann Lee"}]]}
    metadata = read_metadata(parse_html(_page(json.dumps({"@graph": [[[article]]]}))), "http://news.example.test/a")

    assert metadata.author == "Ann Lee"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["NewsArticle", "Person", "@id-1", "2024-05-03T10:00:00Z"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["@type", "@id", "@graph", "headline", "name", "author", "publisher", "datePublished",
                         "description", "x"]), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_json, nesting=st.integers(0, 3000))
def test_any_json_ld_gives_metadata(data: Any, nesting: int) -> None:
    text = "[" * nesting + json.dumps(data) + "]" * nesting
    metadata = read_metadata(parse_html(_page(text)), "http://news.example.test/a")

    assert isinstance(metadata, PageMetadata)
    assert metadata.title is not None
