"""readq configuration: settings, the Celery app, Elasticsearch templates."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
