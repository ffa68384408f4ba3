"""Elasticsearch: the client from settings, and the index templates, aliases and indices readq writes through.

Each alias (``{prefix}-pages``, ``{prefix}-status``) points at a concrete index ``{alias}-000001`` created from a
composable index template built of two component templates: the shared settings and the alias's mappings.
Rolling over to ``-000002`` later keeps every reader and writer on the alias.

The pages index also runs every write through the ingest pipeline ``{prefix}-pages-languages``
(:mod:`workers.extraction.languages`). A mapping change needs a new index: :func:`migrate` moves the documents
into one behind the alias while readq keeps reading and writing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from config.settings import Settings
from workers.extraction import languages

TEMPLATE_PRIORITY = 200
INDEX_NUMBER = re.compile(r"-(\d{6})$")


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


def pages_pipeline(settings: Settings) -> str:
    return f"{settings.pages_alias}-languages"


def pages_template(settings: Settings) -> dict[str, Any]:
    """The pages component template: the mapping file plus the language fields, their analyzers and pipeline."""
    template = _mappings("pages")
    template["mappings"]["properties"].update(languages.language_properties())
    template["settings"] = {
        "index": {"default_pipeline": pages_pipeline(settings),
                  "query": {"default_field": languages.query_default_fields()}},
        "analysis": languages.analysis_settings(),
    }
    return template


# The pages mapping version that brought each search feature: an older index lacks what it needs (the duplicate
# group to collapse on, the compound languages' part analyzers) until ``readq setup --migrate``.
PAGES_FEATURE_VERSIONS = {"collapse": 2, "compound_parts": 3}


def mapping_version(name: str) -> int:
    return int(_mappings(name)["mappings"].get("_meta", {}).get("version", 1))


def install_templates(es: Elasticsearch, settings: Settings) -> list[str]:
    """Create or update the templates, then create each alias's first index if it has none. Idempotent."""
    prefix = settings.index_prefix
    settings_component = f"{prefix}-settings"
    es.cluster.put_component_template(
        name=settings_component,
        template={"settings": {"number_of_shards": settings.index_shards,
                               "number_of_replicas": settings.index_replicas}},
    )
    es.ingest.put_pipeline(id=pages_pipeline(settings), processors=languages.pipeline_processors(),
                           description="readq: language fields and duplicate group of each page")
    created = []
    for name, alias in (("pages", settings.pages_alias), ("status", settings.status_alias)):
        mappings_component = f"{prefix}-{name}-mappings"
        template = pages_template(settings) if name == "pages" else _mappings(name)
        es.cluster.put_component_template(name=mappings_component, template=template)
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


@dataclass
class Migration:
    """What :func:`migrate` did: the index now behind the alias, the indices drained into it, documents copied."""

    alias: str
    target: str
    drained: list[str] = field(default_factory=list)
    copied: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "target": self.target, "drained": self.drained, "copied": self.copied}


def index_versions(es: Elasticsearch, alias: str) -> dict[str, int]:
    """Every ``{alias}-NNNNNN`` index, in or out of the alias, with its mapping version (1 when it has none)."""
    found = es.options(ignore_status=404).indices.get_mapping(index=f"{alias}-*", expand_wildcards="all").body
    return {name: int(body.get("mappings", {}).get("_meta", {}).get("version", 1))
            for name, body in found.items() if INDEX_NUMBER.search(name)}


def write_index(es: Elasticsearch, alias: str) -> str | None:
    found = es.options(ignore_status=404).indices.get_alias(name=alias).body
    writers = [name for name, body in found.items() if body.get("aliases", {}).get(alias, {}).get("is_write_index")]
    return writers[0] if writers else (next(iter(found)) if len(found) == 1 else None)


def _next_index(alias: str, names: list[str]) -> str:
    numbers = [int(match.group(1)) for name in names if (match := INDEX_NUMBER.search(name))]
    return f"{alias}-{max(numbers, default=0) + 1:06d}"


def migrate(es: Elasticsearch, settings: Settings, *,
            on_step: Callable[[str, str], None] | None = None) -> Migration | None:
    """Move the pages into an index of the current mapping behind the alias, without stopping readers or writers.

    Steps: create the new index; copy every document into it; swap the alias in one atomic action (the new index
    becomes the write index, the old ones leave); copy again what was written to the old ones meanwhile; delete
    them. Both copies keep the documents' versions (``version_type: external``), so a copy never overwrites what
    a worker wrote to the new index after the swap, and the second copy brings over what changed during the
    first. Each step can be repeated: after a crash at any point, running it again finishes the job. Returns None
    when every index already has the current mapping.
    """
    def step(name: str, detail: str) -> None:
        if on_step is not None:
            on_step(name, detail)

    alias = settings.pages_alias
    install_templates(es, settings)
    current = mapping_version("pages")
    versions = index_versions(es, alias)
    sources = sorted(name for name, version in versions.items() if version < current)
    if not sources:
        return None
    writer = write_index(es, alias)
    if writer is not None and versions.get(writer) == current:
        target = writer
    else:
        newer = sorted(name for name, version in versions.items() if version == current)
        target = newer[-1] if newer else _next_index(alias, list(versions))
        if not newer:
            step("create", target)
            es.indices.create(index=target)
    migration = Migration(alias=alias, target=target, drained=sources)
    step("copy", f"{', '.join(sources)} -> {target}")
    migration.copied += _copy(es, sources, target)
    step("swap", f"{alias} -> {target}")
    actions: list[dict[str, Any]] = [{"add": {"index": target, "alias": alias, "is_write_index": True}}]
    in_alias = set(es.options(ignore_status=404).indices.get_alias(name=alias).body)
    actions += [{"remove": {"index": name, "alias": alias}} for name in sources if name in in_alias]
    es.indices.update_aliases(actions=actions)
    step("catch-up", f"{', '.join(sources)} -> {target}")
    migration.copied += _copy(es, sources, target)
    step("delete", ", ".join(sources))
    es.indices.delete(index=",".join(sources))
    return migration


def _copy(es: Elasticsearch, sources: list[str], target: str) -> int:
    """``_reindex`` keeping versions: only documents newer than the target's copy (or missing there) are written."""
    es.indices.refresh(index=",".join(sources))  # _reindex reads by search: what is not refreshed is not copied
    response = es.options(request_timeout=3600).reindex(
        source={"index": sources}, dest={"index": target, "version_type": "external"},
        conflicts="proceed", refresh=True, wait_for_completion=True, timeout="1h")
    failures = response.get("failures") or []
    if failures:
        raise RuntimeError(f"reindex into {target} failed for {len(failures)} documents: {failures[0]}")
    return int(response.get("created", 0)) + int(response.get("updated", 0))
