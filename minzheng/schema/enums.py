"""Core enums exposed to GraphQL, with their Chinese terms."""

from __future__ import annotations

import strawberry

from minzheng.core import models
from minzheng.core.divisions import RegionLevel as _RegionLevel
from minzheng.core.idnumber import Sex as _Sex

Sex = strawberry.enum(_Sex, description="性别 Sex, derived from the ID number")
RegionLevel = strawberry.enum(_RegionLevel, description="区划级别 Division level")
HukouType = strawberry.enum(models.HukouType, description="户籍性质 Urban or rural hukou")
Relation = strawberry.enum(models.Relation, description="与户主关系 Relation to the head")
LabourCapacity = strawberry.enum(models.LabourCapacity, description="劳动能力 Labour capacity")
DisabilityCategory = strawberry.enum(
    models.DisabilityCategory, description="残疾类别 Disability category"
)
Whereabouts = strawberry.enum(models.Whereabouts, description="去向 Whereabouts")
IncomeSource = strawberry.enum(models.IncomeSource, description="收入来源 Income source")
EnrolmentStatus = strawberry.enum(models.EnrolmentStatus, description="享受状态 Enrolment status")
