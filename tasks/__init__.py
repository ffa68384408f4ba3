"""readq's Celery tasks, thin adapters around the engines in ``workers``: ``readq.fetch`` carries a page from the
queue to the index, ``readq.index`` a document that waits for Elasticsearch."""
