"""Which analyzer reads each language, and how a page's text reaches it.

Every page keeps ``title``, ``text`` and ``description`` under the standard analyzer: the language-neutral fields
that serve documents of any language. A page whose detected language has an analyzer below also gets a copy of
those three under ``i18n.<lang>.<field>``, analysed by that language's analyzer (stop words, stemming, folding), so
"Haus" finds "Häuser". The copy is made by an ingest pipeline (the index's ``default_pipeline``), so every write,
readq's own and ``_reindex`` alike, is routed the same way, and the indexer's write path is unchanged.

Polish has no analyzer built into Elasticsearch (``stempel`` is a plugin): it falls back to a custom analyzer of
built-in parts: standard tokenizer, lower case, Polish stop words, ASCII folding and every word cut to its first
:data:`POLISH_PREFIX_CHARS` characters, a crude stemmer that joins most inflected forms of one word (``miasto``,
``miasta``, ``miastem``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workers.extraction.extractor import language_probabilities

# ISO 639-1 code (as py3langid and <html lang> give it) -> Elasticsearch's built-in language analyzer.
BUILT_IN_ANALYZERS: dict[str, str] = {
    "ar": "arabic", "bg": "bulgarian", "bn": "bengali", "ca": "catalan", "cs": "czech", "da": "danish",
    "de": "german", "el": "greek", "en": "english", "es": "spanish", "et": "estonian", "eu": "basque",
    "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish", "gl": "galician", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "ja": "cjk", "ko": "cjk",
    "lt": "lithuanian", "lv": "latvian", "nb": "norwegian", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "th": "thai", "tr": "turkish",
    "zh": "cjk",
}
POLISH_ANALYZER = "readq_polish"
POLISH_PREFIX_CHARS = 6
POLISH_STOP_WORDS = [
    "a", "aby", "ale", "bo", "by", "być", "był", "była", "było", "były", "będzie", "czy", "dla", "do", "go", "i",
    "ich", "im", "jak", "jako", "je", "jego", "jej", "jest", "jestem", "jeszcze", "już", "kiedy", "która",
    "które", "który", "ma", "mi", "mnie", "na", "nad", "nie", "niż", "o", "od", "oraz", "po", "pod", "przez",
    "przy", "się", "sobie", "ta", "tak", "także", "te", "tego", "tej", "ten", "też", "to", "tu", "tylko",
    "w", "we", "wszystko", "z", "za", "ze", "że", "żeby",
]
ANALYZERS: dict[str, str] = {**BUILT_IN_ANALYZERS, "pl": POLISH_ANALYZER}
# Languages that write compounds as one word ("Wochenrückblick": "Woche" + "Rückblick"), so that a page can share
# only a part of a query word. Each gets a query-side analyzer that reads every word also as its prefixes and
# suffixes of COMPOUND_PART_MIN_CHARS letters or more, each normalised and stemmed as the language's own analyzer
# does (the built-in one's stop words, normalisation filter and stemmer), to match the language fields as indexed:
# no index-time cost, and no word list (the dictionary decompounder tripled indexing time).
COMPOUND_LANGUAGES: dict[str, dict[str, str]] = {
    "de": {"stopwords": "_german_", "normalization": "german_normalization", "stemmer": "light_german"},
}
COMPOUND_PART_MIN_CHARS = 4
LANGUAGES: tuple[str, ...] = tuple(sorted(ANALYZERS))
ANALYSED_FIELDS = ("title", "description", "text")
LANGUAGE_ROOT = "i18n"


def language_field(lang: str, field: str) -> str:
    return f"{LANGUAGE_ROOT}.{lang}.{field}"


def compound_parts_analyzer(lang: str) -> str:
    return f"readq_{lang}_parts"


def analysis_settings() -> dict[str, Any]:
    """The ``index.analysis`` settings of the custom analyzers: the Polish fields' and the compound languages'
    query-side part analyzers."""
    filters: dict[str, Any] = {
        "readq_polish_stop": {"type": "stop", "stopwords": POLISH_STOP_WORDS},
        "readq_polish_prefix": {"type": "truncate", "length": POLISH_PREFIX_CHARS},
        "readq_part_prefixes": {"type": "edge_ngram", "min_gram": COMPOUND_PART_MIN_CHARS, "max_gram": 64},
        "readq_parts": {"type": "multiplexer", "preserve_original": True,
                        "filters": ["readq_part_prefixes", "reverse, readq_part_prefixes, reverse"]},
        "readq_part_length": {"type": "length", "min": COMPOUND_PART_MIN_CHARS},  # a stemmed part can be shorter
    }
    analyzers: dict[str, Any] = {
        POLISH_ANALYZER: {
            "type": "custom", "tokenizer": "standard",
            "filter": ["lowercase", "readq_polish_stop", "asciifolding", "readq_polish_prefix"],
        },
    }
    for lang, parts in COMPOUND_LANGUAGES.items():
        filters[f"readq_{lang}_stop"] = {"type": "stop", "stopwords": parts["stopwords"]}
        filters[f"readq_{lang}_stemmer"] = {"type": "stemmer", "language": parts["stemmer"]}
        analyzers[compound_parts_analyzer(lang)] = {
            "type": "custom", "tokenizer": "standard",
            "filter": ["lowercase", f"readq_{lang}_stop", parts["normalization"], "readq_parts",
                       f"readq_{lang}_stemmer", "readq_part_length", "unique"],
        }
    return {"filter": filters, "analyzer": analyzers}


def language_properties() -> dict[str, Any]:
    """The mapping of ``i18n``: one object per language, its analysed fields under that language's analyzer."""
    return {
        LANGUAGE_ROOT: {
            "properties": {
                lang: {"properties": {field: {"type": "text", "analyzer": ANALYZERS[lang]}
                                      for field in ANALYSED_FIELDS}}
                for lang in LANGUAGES
            }
        }
    }


def pipeline_processors() -> list[dict[str, Any]]:
    """Ingest processors: copy the analysed fields to the page's language, and name its duplicate group.

    ``duplicate_group`` is the URL of the page a near-duplicate copies (``duplicate_of``), else the page's own
    URL: search collapses on it, so a page and its copies come back as one hit.
    """
    known = ", ".join(f"'{lang}'" for lang in LANGUAGES)
    copies = [
        {"set": {"if": f"ctx.{field} != null && ctx.lang != null && [{known}].contains(ctx.lang)",
                 "field": f"{LANGUAGE_ROOT}.{{{{{{lang}}}}}}.{field}", "copy_from": field}}
        for field in ANALYSED_FIELDS
    ]
    return [
        *copies,
        {"set": {"if": "ctx.url != null", "field": "duplicate_group", "copy_from": "url"}},
        {"set": {"if": "ctx.duplicate_of != null", "field": "duplicate_group", "copy_from": "duplicate_of"}},
    ]


def query_default_fields() -> list[str]:
    """What a query without a field name searches (Kibana's free text): the neutral and language fields."""
    return [*ANALYSED_FIELDS, "author", *(f"{LANGUAGE_ROOT}.*.{field}" for field in ANALYSED_FIELDS)]


QUERY_LANGUAGE_MIN_PROBABILITY = 0.5  # queries are short: below this the guess is often wrong
QUERY_LANGUAGE_COVER = 0.9  # when unsure, the likeliest languages that together hold this much probability...
QUERY_LANGUAGES_MAX = 3  # ...but no more: every language searched adds three fields to the query


def query_languages(query: str, lang: str | None, indexed: Iterable[str] | None = None) -> tuple[str, ...]:
    """The languages whose fields a query searches: ``lang`` if given ("all": every language with an analyzer, or
    only those of them in ``indexed``, the languages the index holds, when that is known), else the query's
    language, told among those same languages: the likeliest when it is confident, else the likeliest few that
    together are (a language no page is in cannot be the query's, and each language searched costs time)."""
    everything = tuple(sorted(set(indexed) & set(LANGUAGES))) if indexed is not None else LANGUAGES
    if lang and lang.lower() == "all":
        return everything
    if lang:
        return (lang.lower(),)
    probabilities = language_probabilities(query) if query.strip() else {}
    candidates = sorted(((probabilities.get(code, 0.0), code) for code in everything), reverse=True)
    total = sum(p for p, _ in candidates)
    if not total:
        return everything
    chosen: list[str] = []
    covered = 0.0
    for p, code in candidates:
        chosen.append(code)
        covered += p / total
        if covered >= (QUERY_LANGUAGE_MIN_PROBABILITY if len(chosen) == 1 else QUERY_LANGUAGE_COVER):
            break
        if len(chosen) == QUERY_LANGUAGES_MAX:
            return everything
    return tuple(chosen)
