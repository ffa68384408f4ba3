"""Indexing: Elasticsearch's templates and client, the group-commit bulk writer, near-duplicates, the search
query."""
