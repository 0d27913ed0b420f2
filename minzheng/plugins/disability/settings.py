"""Local policy for the disability rules, read from ``MINZHENG_DISABILITY_*`` variables.

The defaults are the 焦作 seed's; a deployment changes them in its environment
(``MINZHENG_DISABILITY_LIVING_SUBSIDY_INCLUDES_NEAR_POVERTY=true`` …).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from minzheng.plugins.disability.rules import DisabilityPolicy, PaymentStart


class DisabilitySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINZHENG_DISABILITY_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    dibao_programme: str = "dibao"
    near_poverty_programme: str = "near_poverty"
    living_subsidy_includes_near_poverty: bool = False
    living_subsidy_excluding_programmes: tuple[str, ...] = ("de_facto_unsupported_child",)
    care_subsidy_includes_grade_3_4_intellectual_mental: bool = False
    care_service_hukou_prefix: str = "4108"
    care_service_min_age: int = 16
    care_service_max_grade: int = 2
    care_service_intellectual_mental_max_grade: int = 3
    jurisdiction_prefix: str = "4108"
    payment_start: PaymentStart = PaymentStart.MONTH_AFTER_APPROVAL
    back_pay_on_late_verification: bool = True

    def policy(self) -> DisabilityPolicy:
        return DisabilityPolicy(**self.model_dump())


@lru_cache
def get_policy() -> DisabilityPolicy:
    return DisabilitySettings().policy()
