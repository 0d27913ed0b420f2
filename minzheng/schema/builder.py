"""Compose one ``strawberry.Schema`` from the core and the enabled plugins.

Root types and the core types ``Person``, ``Household``, ``Region`` and
``RegionStatistics`` are each built as one class inheriting the core base and
every plugin's mixin for it.  A field defined twice stops start-up naming both
contributors (``strawberry.tools.merge_types`` would only warn).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.base import has_object_definition

from minzheng.core.hookspecs import SchemaContribution
from minzheng.core.plugins import LoadedPlugins, PluginError
from minzheng.schema import apikeys as schema_apikeys
from minzheng.schema import audit as schema_audit
from minzheng.schema import composed, direct
from minzheng.schema import payroll as payroll_schema
from minzheng.schema import registry as core_registry
from minzheng.schema.errors import ERROR_TYPES
from minzheng.schema.executor import Executor, field_plans
from minzheng.schema.statistics import RegionStatisticsBase
from minzheng.schema.types import HouseholdBase, PersonBase, RegionBase

#: core parts that use the same contribution mechanism as plugins
CORE_PARTS: list[tuple[str, SchemaContribution]] = [
    ("core", core_registry.contribution),
    ("core", schema_audit.contribution),
    ("core", payroll_schema.contribution),
    ("core", schema_apikeys.contribution),
]

DESCRIPTIONS = {
    "Query": "查询 Root of all reads",
    "Mutation": "变更 Root of all writes; each takes one input and returns typed errors",
    "Subscription": "订阅 Live changes over websockets",
}


class SchemaConflict(PluginError):
    pass


def _fields(cls: type) -> list[str]:
    if not has_object_definition(cls):
        raise SchemaConflict(f"{cls.__qualname__} is not a strawberry type")
    return [f.python_name for f in cls.__strawberry_definition__.fields]


def compose(
    name: str, base: type | None, parts: Sequence[tuple[str, type]], *, description: str | None
) -> type | None:
    """One strawberry type named ``name`` with the fields of ``base`` and ``parts``."""
    owners: dict[str, str] = {}
    bases: list[type] = []
    if base is not None:
        for f in _fields(base):
            owners[f] = "core"
    for owner, part in parts:
        for f in _fields(part):
            if f in owners:
                raise SchemaConflict(
                    f"plugin {owner!r}: field {name}.{f} is already defined by {owners[f]!r}"
                )
            owners[f] = owner
        bases.append(part)
    if base is None and not bases:
        return None
    # plugins first so the core base's `is_type_of` and own fields stay in the MRO tail
    all_bases = tuple(bases) + ((base,) if base is not None else ())
    definition_description = description
    if base is not None and has_object_definition(base):
        definition_description = base.__strawberry_definition__.description or description
    cls = type(name, all_bases, {"__module__": composed.__name__})
    return strawberry.type(cls, name=name, description=definition_description)


def contributions(plugins: LoadedPlugins | None) -> list[tuple[str, SchemaContribution]]:
    parts = list(CORE_PARTS)
    if plugins is not None:
        for name, contrib in plugins.results("contribute_schema"):
            if not isinstance(contrib, SchemaContribution):
                raise SchemaConflict(
                    f"plugin {name!r}: contribute_schema must return a SchemaContribution"
                )
            parts.append((name, contrib))
    return parts


def build_schema(
    plugins: LoadedPlugins | None,
    *,
    extensions: Sequence[type[SchemaExtension] | Any] = (),
) -> strawberry.Schema:
    parts = contributions(plugins)

    def pick(attr: str) -> list[tuple[str, type]]:
        return [(n, getattr(c, attr)) for n, c in parts if getattr(c, attr) is not None]

    composed.Person = compose("Person", PersonBase, pick("person"), description=None)
    composed.Household = compose("Household", HouseholdBase, pick("household"), description=None)
    composed.Region = compose("Region", RegionBase, pick("region"), description=None)
    composed.RegionStatistics = compose(
        "RegionStatistics", RegionStatisticsBase, pick("region_statistics"), description=None
    )
    query = compose("Query", None, pick("query"), description=DESCRIPTIONS["Query"])
    mutation = compose("Mutation", None, pick("mutation"), description=DESCRIPTIONS["Mutation"])
    subscription = compose(
        "Subscription", None, pick("subscription"), description=DESCRIPTIONS["Subscription"]
    )
    extra_types: list[type] = [composed.Person, composed.Household, *ERROR_TYPES]
    nodes: dict[str, str] = {}
    for owner, c in parts:
        extra_types.extend(c.types)
        for type_name, loader in c.nodes.items():
            if type_name in nodes:
                raise SchemaConflict(f"plugin {owner!r}: node type {type_name} is registered twice")
            nodes[type_name] = loader
    composed.NODE_LOADERS = nodes
    schema = strawberry.Schema(
        query=query,  # type: ignore[arg-type]
        mutation=mutation,
        subscription=subscription,
        types=extra_types,
        extensions=list(extensions),
        execution_context_class=Executor,
    )
    direct.install(schema)
    field_plans(schema._schema)  # after install: direct resolvers are plans too
    return schema
