"""Kibana: import readq's saved objects (``config/kibana/readq.ndjson``) for any index prefix.

The file is written for the default prefix: every object id starts with ``readq-`` and the data views' titles are
the default aliases. For another prefix, ids, references and titles are rewritten first, so several readq
installations can share one Kibana space.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import requests

from workers.errors import KibanaImportError

DEFAULT_PREFIX = "readq"
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")  # as config.settings.Settings.index_prefix


def _reprefix(value: str, prefix: str) -> str:
    for old, new in ((f"{DEFAULT_PREFIX}-", f"{prefix}-"), (f"{DEFAULT_PREFIX} ", f"{prefix} ")):
        if value.startswith(old):
            return new + value[len(old):]
    return value


def rewrite_prefix(ndjson: str, prefix: str) -> str:
    """The saved objects with ``readq-`` ids, reference ids and titles moved to ``prefix``."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"invalid index prefix: {prefix!r}")
    if prefix == DEFAULT_PREFIX:
        return ndjson
    lines = []
    for line in ndjson.splitlines():
        if not line.strip():
            continue
        obj: dict[str, Any] = json.loads(line)
        obj["id"] = _reprefix(obj["id"], prefix)
        for ref in obj.get("references", []):
            ref["id"] = _reprefix(ref["id"], prefix)
        attributes = obj.get("attributes", {})
        for key in ("title", "name"):
            if isinstance(attributes.get(key), str):
                attributes[key] = _reprefix(attributes[key], prefix)
        lines.append(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _describe(error: dict[str, Any]) -> str:
    detail = error.get("error", {})
    return f"{error.get('type')}/{error.get('id')}: {detail.get('message') or detail.get('type')}"


def import_saved_objects(
    kibana_url: str,
    ndjson_path: Path,
    *,
    prefix: str,
    auth: tuple[str, str] | None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """POST the objects to Kibana's import API (overwriting); return its answer or raise KibanaImportError."""
    body = rewrite_prefix(ndjson_path.read_text(encoding="utf-8"), prefix)
    url = f"{kibana_url.rstrip('/')}/api/saved_objects/_import"
    try:
        response = requests.post(
            url,
            params={"overwrite": "true"},
            headers={"kbn-xsrf": "true"},
            files={"file": (ndjson_path.name, body.encode("utf-8"), "application/ndjson")},
            auth=auth,
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise KibanaImportError(f"cannot reach Kibana at {kibana_url}: {exc}") from exc
    if response.status_code != 200:
        raise KibanaImportError(f"Kibana import failed: HTTP {response.status_code}: {response.text[:500]}")
    try:
        result: dict[str, Any] = response.json()
    except ValueError as exc:
        raise KibanaImportError(f"Kibana import answered with no JSON: {response.text[:500]}") from exc
    if not result.get("success"):
        errors = [_describe(error) for error in result.get("errors", [])]
        raise KibanaImportError(f"Kibana refused {len(errors)} object(s): {'; '.join(errors) or result}")
    return result
