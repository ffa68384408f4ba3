"""Page metadata from what publishers declare: JSON-LD, OpenGraph and article meta tags, then plain HTML."""

from __future__ import annotations

from dataclasses import dataclass

from lxml.html import HtmlElement

from workers.extraction.authors import find_author
from workers.extraction.dates import DATE_PUBLISHED_XPATH, find_published, page_zone, parse_date
from workers.extraction.declared import absolute, attributes, clean, first, first_of, language_tag, meta_tags
from workers.extraction.jsonld import ARTICLE_TYPES, json_ld_article, ld_publisher, ld_text, ld_types
from workers.extraction.titles import find_title


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    author: str | None
    published: str | None
    lang: str | None
    site_name: str | None
    description: str | None
    canonical_url: str | None
    declares_article: bool = False  # og:type "article", or a JSON-LD article type


def read_metadata(tree: HtmlElement, base_url: str) -> PageMetadata:
    """Read metadata from ``tree`` before readability mutates it."""
    meta = meta_tags(tree)
    article = json_ld_article(tree)
    site_name = first(meta.get("og:site_name"), ld_publisher(article), meta.get("application-name"))
    lang = language_tag(first(tree.get("lang"), tree.get("xml:lang"), meta.get("content-language"),
                              meta.get("og:locale")))
    declared = [parsed for parsed in (parse_date(value, lang) for value in (
        ld_text(article, "datePublished"), meta.get("article:published_time"), meta.get("og:published_time"),
        meta.get("date"), meta.get("pubdate"), meta.get("publishdate"), meta.get("dc.date"),
        meta.get("dc.date.issued"), meta.get("dcterms.date"),
        first_of(DATE_PUBLISHED_XPATH(tree)), first_of(attributes(tree, "time", "datetime")),
    )) if parsed is not None]
    page_title = next((element.text_content() for element in tree.iter("title")), None)
    return PageMetadata(
        title=find_title(tree, [ld_text(article, "headline"), meta.get("og:title"), meta.get("twitter:title"),
                               clean(page_title)], base_url, site_name),
        author=find_author(tree, article, meta, site_name),
        published=find_published(tree, base_url, declared, page_zone(tree, declared, lang), lang),
        lang=lang,
        site_name=site_name,
        description=first(meta.get("description"), meta.get("og:description"), meta.get("twitter:description"),
                          ld_text(article, "description")),
        canonical_url=absolute(base_url, first(first_of(attributes(tree, "link", "href", rel="canonical")),
                                               meta.get("og:url"))),
        declares_article=(meta.get("og:type", "").lower() == "article"
                          or bool(ld_types(article) & (ARTICLE_TYPES - {"webpage"}))),
    )
