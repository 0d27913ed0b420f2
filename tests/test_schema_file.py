"""The committed SDL is the composed schema of all built-in plugins: every schema
change shows up in review. Regenerate with ``make schema``."""

from __future__ import annotations

from pathlib import Path

from minzheng.core.plugins import load
from minzheng.schema.builder import build_schema

ROOT = Path(__file__).parent.parent


def test_schema_graphql_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    current = str(build_schema(load("all"))).rstrip() + "\n"
    assert committed == current, "schema.graphql is stale: run `make schema` and review the diff"


def test_every_type_and_field_is_described():
    schema = build_schema(load("all"))._schema
    missing = []
    for name, gtype in schema.type_map.items():
        if name.startswith("__") or name in (
            "String",
            "Int",
            "Boolean",
            "ID",
            "Float",
            "Date",
            "DateTime",
            "JSON",
        ):
            continue
        fields = getattr(gtype, "fields", None) or {}
        for fname, f in fields.items():
            if (
                not f.description
                and not name.endswith(("Connection", "Edge", "Payload", "Input", "Filter"))
                and name not in ("PageInfo", "SexCount", "AgeBandCount")
            ):
                missing.append(f"{name}.{fname}")
    assert not missing, f"fields without a description: {missing[:20]}"
