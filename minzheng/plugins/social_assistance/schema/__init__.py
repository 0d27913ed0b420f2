"""The plugin's part of the graph (imported only when the plugin is enabled)."""

from __future__ import annotations

from minzheng.core.hookspecs import SchemaContribution
from minzheng.plugins.social_assistance.schema.fields import (
    HouseholdFields,
    PersonFields,
    RegionStatisticsFields,
)
from minzheng.plugins.social_assistance.schema.mutations import Mutation
from minzheng.plugins.social_assistance.schema.queries import Query
from minzheng.plugins.social_assistance.schema.types import (
    DibaoCaseType,
    TekunCaseType,
    TemporaryCaseType,
)

contribution = SchemaContribution(
    query=Query,
    mutation=Mutation,
    person=PersonFields,
    household=HouseholdFields,
    region_statistics=RegionStatisticsFields,
    types=[DibaoCaseType, TekunCaseType, TemporaryCaseType],
    nodes={
        "MinimumLivingGuaranteeCase": "social_assistance.dibao_by_id",
        "ExtremePovertySupportCase": "social_assistance.tekun_by_id",
        "TemporaryAssistanceCase": "social_assistance.temporary_by_id",
    },
)
