"""The extractor: decoded HTML in, the readable article and its metadata out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from config.settings import Settings
from workers.article import article_text, prose_chars
from workers.cleaning import clean_tree
from workers.errors import NoReadableContent
from workers.metadata import read_metadata
from workers.parsing import parse_html
from workers.timebudget import time_budget

__all__ = ["Extraction", "Extractor", "detect_language", "prose_chars"]


@dataclass(frozen=True)
class Extraction:
    title: str | None
    text: str
    author: str | None
    published: str | None
    lang: str | None
    site_name: str | None
    description: str | None
    canonical_url: str | None


class Extractor:
    """Cleaning, then readability-lxml with a second opinion, find the article; declared metadata fills the rest."""

    def __init__(self, *, min_text_chars: int, time_limit: float | None = None) -> None:
        self.min_text_chars = min_text_chars
        self.time_limit = time_limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Extractor:
        return cls(min_text_chars=settings.min_text_chars, time_limit=settings.extract_budget)

    def extract(self, html: str, url: str) -> Extraction:
        """The page's article and metadata. Raises NoReadableContent when it has too little prose, ExtractTimeout
        when it takes longer than ``time_limit`` seconds (if set)."""
        with time_budget(self.time_limit) as check_time:
            return self._extract(html, url, check_time)

    def _extract(self, html: str, url: str, check_time: Callable[[], None]) -> Extraction:
        tree = parse_html(html)
        metadata = read_metadata(tree, url)
        check_time()
        clean_tree(tree, metadata.title)
        text = article_text(tree, min_chars=self.min_text_chars, description=metadata.description)
        check_time()
        prose = prose_chars(text)
        if prose < self.min_text_chars:  # an article in an <aside>, or under a "sidebar" class: again, lightly cleaned
            tree = parse_html(html)
            clean_tree(tree, metadata.title, furniture=False)
            text = article_text(tree, min_chars=self.min_text_chars, description=metadata.description)
            check_time()
            prose = prose_chars(text)
        if prose < self.min_text_chars:
            raise NoReadableContent(
                f"only {prose} characters of prose (at least {self.min_text_chars} needed)"
            )
        return Extraction(
            title=metadata.title,
            text=text,
            author=metadata.author,
            published=metadata.published,
            lang=detect_language(text) or metadata.lang,
            site_name=metadata.site_name,
            description=metadata.description,
            canonical_url=metadata.canonical_url,
        )


@cache
def _language_identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, min_probability: float = 0.8) -> str | None:
    """ISO 639-1 code of the text's language, or None when the model is unsure."""
    language, probability = _language_identifier().classify(text[:5000])
    return str(language) if probability >= min_probability else None
