"""config/kibana/readq.ndjson: well-formed saved objects that match the index mappings (no Kibana needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from readq._kibana import rewrite_prefix

ROOT = Path(__file__).resolve().parents[3]
NDJSON = ROOT / "config" / "kibana" / "readq.ndjson"
MAPPINGS = {"readq-pages": "pages", "readq-status": "status"}  # data view title -> config/elasticsearch/*.json
LENS_LAYER_REF = "indexpattern-datasource-layer-"
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")


def _objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in NDJSON.read_text(encoding="utf-8").splitlines()]


def _properties(data_view_title: str) -> dict[str, Any]:
    path = ROOT / "config" / "elasticsearch" / f"{MAPPINGS[data_view_title]}.json"
    props: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["mappings"]["properties"]
    return props


def _field_type(data_view_title: str, field: str) -> str | None:
    """The mapping type of ``field`` (``title.raw`` style sub-fields included), or None if unmapped."""
    name, _, sub = field.partition(".")
    mapping = _properties(data_view_title).get(name)
    if mapping and sub:
        mapping = mapping.get("fields", {}).get(sub)
    return mapping.get("type") if mapping else None


def _by_id() -> dict[str, dict[str, Any]]:
    return {obj["id"]: obj for obj in _objects()}


def _data_view_title(object_id: str) -> str:
    return str(_by_id()[object_id]["attributes"]["title"])


def _of_type(kind: str) -> list[dict[str, Any]]:
    return [obj for obj in _objects() if obj["type"] == kind]


def test_every_line_is_a_saved_object() -> None:
    lines = NDJSON.read_text(encoding="utf-8").splitlines()
    assert lines and all(line.strip() for line in lines)
    for line in lines:
        obj = json.loads(line)
        assert isinstance(obj["id"], str) and obj["id"]
        assert isinstance(obj["type"], str) and obj["type"]
        assert isinstance(obj["attributes"], dict)
        assert isinstance(obj["references"], list)
        for ref in obj["references"]:
            assert set(ref) == {"id", "name", "type"}


def test_ids_are_unique_and_everything_expected_is_there() -> None:
    objects = _objects()
    assert len({(o["type"], o["id"]) for o in objects}) == len({o["id"] for o in objects}) == len(objects)
    kinds = [o["type"] for o in objects]
    assert kinds.count("index-pattern") == 2
    assert kinds.count("search") == 1
    assert kinds.count("lens") == 5
    assert kinds.count("dashboard") == 1


def test_every_reference_points_into_the_file() -> None:
    known = {(o["type"], o["id"]) for o in _objects()}
    for obj in _objects():
        names = [ref["name"] for ref in obj["references"]]
        assert len(names) == len(set(names)), obj["id"]
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in known, (obj["id"], ref)


def test_data_views_match_the_aliases_and_time_fields() -> None:
    defaults = Settings(_env_file=None)
    views = {o["id"]: o["attributes"] for o in _of_type("index-pattern")}
    assert {v["title"] for v in views.values()} == {defaults.pages_alias, defaults.status_alias}
    assert views["readq-pages"]["timeFieldName"] == "fetched_at"
    assert views["readq-status"]["timeFieldName"] == "updated_at"
    for view in views.values():
        assert _field_type(view["title"], view["timeFieldName"]) == "date"


def test_saved_search_fields_exist() -> None:
    (search,) = _of_type("search")
    attrs = search["attributes"]
    assert attrs["title"] == "readq failures"
    assert attrs["columns"] == ["url", "reason", "error", "attempts", "batch"]
    source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert source["query"] == {"query": "state:failed", "language": "kuery"}
    (index_ref,) = [r for r in search["references"] if r["name"] == source["indexRefName"]]
    title = _data_view_title(index_ref["id"])
    assert title == "readq-status"
    fields = [*attrs["columns"], *(field for field, _ in attrs["sort"]), *KQL_FIELD.findall(source["query"]["query"])]
    for field in fields:
        assert _field_type(title, field) is not None, field


@pytest.mark.parametrize("lens", _of_type("lens"), ids=lambda o: o["id"])
def test_lens_layers_use_mapped_fields(lens: dict[str, Any]) -> None:
    state = lens["attributes"]["state"]
    layers = state["datasourceStates"]["formBased"]["layers"]
    assert layers
    refs = {r["name"]: r for r in lens["references"]}
    for layer_id, layer in layers.items():
        ref = refs[f"{LENS_LAYER_REF}{layer_id}"]
        assert ref["type"] == "index-pattern"
        title = _data_view_title(ref["id"])
        assert sorted(layer["columnOrder"]) == sorted(layer["columns"])
        for column in layer["columns"].values():
            field = column.get("sourceField")
            if field and field != "___records___":
                mapped = _field_type(title, field)
                assert mapped is not None, (lens["id"], field)
                if column["operationType"] == "date_histogram":
                    assert mapped == "date"
                if column["operationType"] in {"average", "sum", "min", "max", "median"}:
                    assert mapped in {"integer", "long", "short", "float", "double"}
        for field in KQL_FIELD.findall(state["query"]["query"]):
            assert _field_type(title, field) is not None, (lens["id"], field)
    visualization = json.dumps(state["visualization"])
    for layer_id, layer in layers.items():
        assert layer_id in visualization
        assert all(column_id in visualization for column_id in layer["columns"])


def test_fetch_latency_uses_fetch_ms() -> None:
    lens = _by_id()["readq-fetch-latency"]
    (layer,) = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    ops = {(c["operationType"], c["sourceField"]) for c in layer["columns"].values()}
    assert ops == {("date_histogram", "updated_at"), ("average", "fetch_ms")}
    assert _field_type("readq-status", "fetch_ms") == "integer"


def test_dashboard_panels_resolve() -> None:
    (dashboard,) = _of_type("dashboard")
    attrs = dashboard["attributes"]
    assert attrs["title"] == "readq overview"
    json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    json.loads(attrs["optionsJSON"])
    panels = json.loads(attrs["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    by_id = _by_id()
    shown = set()
    for n, panel in enumerate(panels):
        assert panel["panelRefName"] == f"panel_{n}"
        # Kibana 8 accepts "panel_N" and, as its own exports write it, "<panelIndex>:panel_N".
        ref = refs.get(panel["panelRefName"]) or refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
        assert ref["type"] == panel["type"] == by_id[ref["id"]]["type"]
        assert panel["gridData"]["i"] == panel["panelIndex"]
        assert panel["gridData"]["x"] >= 0 and panel["gridData"]["x"] + panel["gridData"]["w"] <= 48
        shown.add(ref["id"])
    assert shown == {o["id"] for o in _objects() if o["type"] in {"lens", "search"}}
    assert len({p["panelIndex"] for p in panels}) == len(panels)


def test_rewrite_prefix_moves_every_id_and_title() -> None:
    original = NDJSON.read_text(encoding="utf-8")
    assert rewrite_prefix(original, "readq") == original
    rewritten = [json.loads(line) for line in rewrite_prefix(original, "acme").splitlines()]
    assert len(rewritten) == len(_objects())
    for obj in rewritten:
        assert obj["id"].startswith("acme-")
        assert all(ref["id"].startswith("acme-") for ref in obj["references"])
    views = {o["id"]: o["attributes"] for o in rewritten if o["type"] == "index-pattern"}
    assert views["acme-pages"]["title"] == "acme-pages"
    assert views["acme-status"]["title"] == "acme-status"
    assert views["acme-pages"]["name"] == "acme pages"
    titles = {o["attributes"]["title"] for o in rewritten}
    assert "acme overview" in titles and "acme failures" in titles
    assert "readq-" not in rewrite_prefix(original, "acme")  # no id hides inside a JSON string
    # reference names and layer ids are untouched, so the dashboard still resolves its panels
    assert [r["name"] for o in rewritten for r in o["references"]] == [
        r["name"] for o in _objects() for r in o["references"]
    ]


def test_rewrite_prefix_refuses_bad_prefixes() -> None:
    with pytest.raises(ValueError):
        rewrite_prefix("", "Bad Prefix")
