"""Core enums exposed to GraphQL, with their Chinese terms.

``strawberry.enum`` registers the core enum classes themselves, so ORM rows'
values serialise as they are."""

from __future__ import annotations

import strawberry

from minzheng.core.divisions import RegionLevel
from minzheng.core.idnumber import Sex
from minzheng.core.models import (
    DisabilityCategory,
    EnrolmentStatus,
    HukouType,
    IncomeSource,
    LabourCapacity,
    Relation,
    Whereabouts,
)

for _enum, _description in (
    (Sex, "性别 Sex, derived from the ID number"),
    (RegionLevel, "区划级别 Division level"),
    (HukouType, "户籍性质 Urban or rural hukou"),
    (Relation, "与户主关系 Relation to the head"),
    (LabourCapacity, "劳动能力 Labour capacity"),
    (DisabilityCategory, "残疾类别 Disability category"),
    (Whereabouts, "去向 Whereabouts"),
    (IncomeSource, "收入来源 Income source"),
    (EnrolmentStatus, "享受状态 Enrolment status"),
):
    strawberry.enum(_enum, description=_description)

__all__ = [
    "DisabilityCategory",
    "EnrolmentStatus",
    "HukouType",
    "IncomeSource",
    "LabourCapacity",
    "RegionLevel",
    "Relation",
    "Sex",
    "Whereabouts",
]
