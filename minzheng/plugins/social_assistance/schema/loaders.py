"""The plugin's dataloaders, created once per request (``create_loaders`` hook)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from minzheng.plugins.social_assistance import models as m
from minzheng.schema.loaders import by_key, many_by_key

P = "social_assistance."


def loaders(db: Any) -> dict[str, DataLoader]:
    async def balances(keys: Sequence[int]) -> list[int]:
        rows = await db.rows(
            select(m.ReserveFundEntry.fund_id, func.sum(m.ReserveFundEntry.amount_fen))
            .where(m.ReserveFundEntry.fund_id.in_(keys))
            .group_by(m.ReserveFundEntry.fund_id)
        )
        found = {fid: int(total) for fid, total in rows}
        return [found.get(k, 0) for k in keys]

    return {
        P + "standard_by_id": lambda: by_key(db, m.SocialAssistanceStandard),
        P + "dibao_cases_by_household": lambda: many_by_key(
            db, m.DibaoCase, m.DibaoCase.household_id, order=m.DibaoCase.id.desc()
        ),
        P + "dibao_members_by_case": lambda: many_by_key(db, m.DibaoMember, m.DibaoMember.case_id),
        P + "dibao_objections_by_case": lambda: many_by_key(
            db, m.DibaoObjection, m.DibaoObjection.case_id
        ),
        P + "dibao_work_offers_by_case": lambda: many_by_key(
            db,
            m.DibaoWorkOffer,
            m.DibaoWorkOffer.case_id,
            order=(m.DibaoWorkOffer.offered_on, m.DibaoWorkOffer.id),
        ),
        P + "dibao_by_id": lambda: by_key(db, m.DibaoCase),
        P + "tekun_by_id": lambda: by_key(db, m.TekunCase),
        P + "tekun_cases_by_person": lambda: many_by_key(
            db, m.TekunCase, m.TekunCase.person_id, order=m.TekunCase.id.desc()
        ),
        P + "conditions_by_case": lambda: many_by_key(
            db, m.TekunCondition, m.TekunCondition.case_id, order=m.TekunCondition.code
        ),
        P + "supporters_by_case": lambda: many_by_key(
            db, m.TekunSupporter, m.TekunSupporter.case_id
        ),
        P + "self_care_by_case": lambda: many_by_key(
            db,
            m.SelfCareAssessment,
            m.SelfCareAssessment.case_id,
            order=m.SelfCareAssessment.id.desc(),
        ),
        P + "temporary_by_id": lambda: by_key(db, m.TemporaryCase),
        P + "temporary_cases_by_person": lambda: many_by_key(
            db, m.TemporaryCase, m.TemporaryCase.person_id, order=m.TemporaryCase.id.desc()
        ),
        P + "fund_entries_by_case": lambda: many_by_key(
            db, m.ReserveFundEntry, m.ReserveFundEntry.temporary_case_id
        ),
        P + "fund_balance_by_id": lambda: DataLoader(load_fn=balances),
        P + "near_poverty_by_household": lambda: many_by_key(
            db,
            m.NearPovertyDetermination,
            m.NearPovertyDetermination.household_id,
            order=m.NearPovertyDetermination.id.desc(),
        ),
    }
