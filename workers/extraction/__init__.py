"""Extraction: decoding, parsing, cleaning, the article, its text and metadata, the document; and the worker's
pool of extraction processes."""
