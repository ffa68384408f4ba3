"""The extractor: decoded HTML in, the readable article and its metadata out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from config.settings import Settings
from workers.article import article_text, prose_chars
from workers.cleaning import clean_tree
from workers.errors import NoReadableContent
from workers.metadata import read_metadata
from workers.parsing import parse_html

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

    def __init__(self, *, min_text_chars: int) -> None:
        self.min_text_chars = min_text_chars

    @classmethod
    def from_settings(cls, settings: Settings) -> Extractor:
        return cls(min_text_chars=settings.min_text_chars)

    def extract(self, html: str, url: str) -> Extraction:
        tree = parse_html(html)
        metadata = read_metadata(tree, url)
        clean_tree(tree, metadata.title)
        text = article_text(tree, url, min_chars=self.min_text_chars, description=metadata.description)
        prose = prose_chars(text)
        if prose < self.min_text_chars:  # an article in an <aside>, or under a "sidebar" class: again, lightly cleaned
            tree = parse_html(html)
            clean_tree(tree, metadata.title, furniture=False)
            text = article_text(tree, url, min_chars=self.min_text_chars, description=metadata.description)
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
