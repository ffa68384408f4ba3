"""Elasticsearch: the client from settings, and the index templates, aliases and indices readq writes through.

Each alias (``{prefix}-pages``, ``{prefix}-status``) points at a concrete index ``{alias}-000001`` created from a
composable index template built of two component templates: the shared settings and the alias's mappings.
Rolling over to ``-000002`` later keeps every reader and writer on the alias.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from config.settings import Settings

TEMPLATE_PRIORITY = 200


def make_client(settings: Settings) -> Elasticsearch:
    options: dict[str, Any] = {
        "request_timeout": settings.es_request_timeout,
        "retry_on_timeout": False,
        "max_retries": 0,  # retries are the tasks' business, with backoff
    }
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_url.startswith("https://"):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs:
            options["ca_certs"] = settings.es_ca_certs
    # orjson: documents (text, MinHash signatures) and search answers are most of what crosses this client.
    return Elasticsearch(settings.es_url, serializer=OrjsonSerializer(), **options)


def _mappings(name: str) -> dict[str, Any]:
    text = resources.files("config").joinpath("elasticsearch", f"{name}.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def install_templates(es: Elasticsearch, settings: Settings) -> list[str]:
    """Create or update the templates, then create each alias's first index if it has none. Idempotent."""
    prefix = settings.index_prefix
    settings_component = f"{prefix}-settings"
    es.cluster.put_component_template(
        name=settings_component,
        template={"settings": {"number_of_shards": settings.index_shards,
                               "number_of_replicas": settings.index_replicas}},
    )
    created = []
    for name, alias in (("pages", settings.pages_alias), ("status", settings.status_alias)):
        mappings_component = f"{prefix}-{name}-mappings"
        es.cluster.put_component_template(name=mappings_component, template=_mappings(name))
        es.indices.put_index_template(
            name=alias,
            index_patterns=[f"{alias}-*"],
            composed_of=[settings_component, mappings_component],
            priority=TEMPLATE_PRIORITY,
            meta={"managed_by": "readq"},
        )
        if not es.indices.exists_alias(name=alias):
            # Another process may create it at the same moment: that is success too.
            response = es.options(ignore_status=400).indices.create(
                index=f"{alias}-000001", aliases={alias: {"is_write_index": True}}
            )
            if response.get("acknowledged"):
                created.append(alias)
            elif not es.indices.exists_alias(name=alias):
                raise RuntimeError(f"cannot create {alias}-000001: {response.get('error')}")
    return created
