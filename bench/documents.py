"""The query documents of the mix, with enabled plugins' fields filled in.

A line ``# @plugin-fields <Type>`` in a document is replaced by every field
that enabled plugins add to that core type (leaf fields as they are, object
fields with their leaf fields), so the mix covers whatever plugins exist.
Without the replacement the document is the *core* variant, the one the
hand-written baselines answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)

QUERIES = Path(__file__).parent / "queries"
MARKER = re.compile(r"^(\s*)# @plugin-fields (\w+)\s*$", re.MULTILINE)

#: SchemaContribution attribute that extends each core type
CONTRIBUTION_ATTR = {
    "Person": "person",
    "Household": "household",
    "Region": "region",
    "RegionStatistics": "region_statistics",
}


@dataclass(frozen=True)
class Document:
    name: str
    core: str
    full: str

    @property
    def has_plugin_fields(self) -> bool:
        return self.core != self.full


def plugin_field_names(plugins: Any) -> dict[str, list[str]]:
    """GraphQL names of the fields each core type gets from enabled plugins."""
    out: dict[str, list[str]] = {t: [] for t in CONTRIBUTION_ATTR}
    if plugins is None:
        return out
    for _name, contribution in plugins.results("contribute_schema"):
        for type_name, attr in CONTRIBUTION_ATTR.items():
            cls = getattr(contribution, attr, None)
            definition = getattr(cls, "__strawberry_definition__", None)
            if definition is None:
                continue
            out[type_name].extend(f.graphql_name or f.python_name for f in definition.fields)
    return out


def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _required_args(field: GraphQLField) -> bool:
    return any(
        isinstance(a.type, GraphQLNonNull) and a.default_value is None for a in field.args.values()
    )


def selection(schema: GraphQLSchema, type_name: str, names: list[str], indent: str) -> str:
    """Selection lines for ``names`` on ``type_name``: leaves as they are, object
    fields with their own leaf fields; fields that need arguments are skipped."""
    gql_type = schema.get_type(type_name)
    assert isinstance(gql_type, GraphQLObjectType), type_name
    by_python_name = {}
    for graphql_name, f in gql_type.fields.items():
        definition = (f.extensions or {}).get("strawberry-definition")
        by_python_name[getattr(definition, "python_name", graphql_name)] = graphql_name
    lines = []
    for wanted in names:
        name = wanted if wanted in gql_type.fields else by_python_name.get(wanted, wanted)
        field = gql_type.fields.get(name)
        if field is None or _required_args(field):
            continue
        inner = _unwrap(field.type)
        if is_leaf_type(inner):
            lines.append(f"{indent}{name}")
            continue
        if not isinstance(inner, GraphQLObjectType):
            continue  # interfaces and unions: not expanded
        leaves = [
            n
            for n, f in inner.fields.items()
            if is_leaf_type(_unwrap(f.type)) and not _required_args(f)
        ]
        if leaves:
            lines.append(f"{indent}{name} {{ {' '.join(leaves)} }}")
    return "\n".join(lines)


def load(name: str, schema: GraphQLSchema | None = None, plugins: Any = None) -> Document:
    """The document ``bench/queries/<name>.graphql``, core and full variants."""
    text = (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")
    core = MARKER.sub("", text)
    if schema is None:
        return Document(name, core, core)
    names = plugin_field_names(plugins)

    def fill(m: re.Match[str]) -> str:
        return selection(schema, m.group(2), names.get(m.group(2), []), m.group(1))

    return Document(name, core, MARKER.sub(fill, text))


def all_names() -> list[str]:
    return sorted(p.stem for p in QUERIES.glob("*.graphql"))
