"""Deployment settings of the social-assistance plugin, read from
``MINZHENG_SOCIAL_ASSISTANCE_*`` variables (or ``.env``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SocialAssistanceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINZHENG_SOCIAL_ASSISTANCE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    #: a CSV (``date,kind,name``; kind ``holiday`` or ``workday``) with the
    #: public holidays and adjusted working days announced after this release;
    #: its rows are added to the shipped list, and replace it for a date in both
    holidays_file: str | None = None
