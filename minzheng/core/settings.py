"""Deployment settings, read from ``MINZHENG_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINZHENG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./minzheng.db"
    #: Comma-separated plugin names; ``all`` (default) enables every installed plugin,
    #: an empty value runs the core registry alone.
    plugins: Annotated[tuple[str, ...] | Literal["all"], NoDecode] = "all"
    #: Echo SQL statements (debugging only).
    echo_sql: bool = False
    #: Whether the GraphiQL IDE is served on GET /graphql.
    graphiql: bool = True
    #: Whether schema introspection is allowed (switch off in production).
    introspection: bool = True
    #: Largest page a connection returns.
    max_page_size: int = Field(default=100, ge=1, le=1000)
    #: Demo mode: open access on localhost, loudly announced.
    demo: bool = False
    log_level: str = "INFO"
    #: HS256 secret for bearer tokens (development and small deployments)
    jwt_secret: str | None = None

    @field_validator("plugins", mode="before")
    @classmethod
    def _split_plugins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() == "all":
                return "all"
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
