"""readq's Celery tasks, one module per stage: thin adapters around the engines in ``workers``."""
