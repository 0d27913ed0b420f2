"""The disability plugin's contribution to the graph."""

from __future__ import annotations

from minzheng.core.hookspecs import SchemaContribution


def contribution() -> SchemaContribution:
    from minzheng.plugins.disability.schema.mutations import Mutation
    from minzheng.plugins.disability.schema.queries import PersonFields, Query, StatisticsFields

    return SchemaContribution(
        query=Query, mutation=Mutation, person=PersonFields, region_statistics=StatisticsFields
    )
