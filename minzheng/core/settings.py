"""Deployment settings, read from ``MINZHENG_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
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

    # ------------------------------------------------------------ security
    #: HS256 secret for bearer tokens (small deployments, ``minzheng token``).
    jwt_secret: SecretStr | None = None
    #: Signature algorithms accepted on bearer tokens (comma-separated);
    #: ``none`` is never accepted.
    jwt_algorithms: Annotated[tuple[str, ...], NoDecode] = ("HS256",)
    #: PEM public key of an identity provider (RS256/ES256 tokens).
    jwt_public_key_file: Path | None = None
    #: JWKS file of an identity provider (tokens chosen by ``kid``).
    jwt_jwks_file: Path | None = None
    #: Required ``aud`` claim; empty = tokens must not carry one.
    jwt_audience: str | None = "minzheng"
    #: Required ``iss`` claim; empty = not checked.
    jwt_issuer: str | None = None
    #: Clock skew tolerated on ``exp``/``nbf``/``iat``.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=600)
    #: Claim names carrying the roles (list) and the region scope (division code).
    jwt_roles_claim: str = "roles"
    jwt_region_claim: str = "region"
    #: Role → permission overrides (TOML or JSON); see ``minzheng.core.auth``.
    role_map_file: Path | None = None
    #: Record an API key's last use at most this often.
    api_key_touch_seconds: int = Field(default=60, ge=0)
    #: Counts below this are suppressed (null + flag) for principals without pii:read.
    small_cell_threshold: int = Field(default=5, ge=1)
    #: Query limits, checked before any resolver runs.
    max_query_depth: int = Field(default=12, ge=1)
    max_query_tokens: int = Field(default=4000, ge=10)
    max_query_aliases: int = Field(default=30, ge=0)
    max_query_cost: int = Field(default=20000, ge=1)
    #: Assumed size of a list field that takes no ``first`` argument and declares no
    #: ``list_size`` (cost limit).
    default_list_size: int = Field(default=10, ge=1)
    #: ``off``: any query; ``allowed``: registered hashes may be sent alone;
    #: ``required``: only registered queries run.
    persisted_queries: Literal["off", "allowed", "required"] = "off"
    #: Largest request body accepted on /graphql.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    #: Refuse to start on PostgreSQL unless row-level security is enforced for
    #: the server's role (not a superuser, no BYPASSRLS, every policy in place).
    rls_required: bool = False

    @field_validator("jwt_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(a.strip() for a in value.split(",") if a.strip())
        return value

    @field_validator("jwt_audience", "jwt_issuer", "jwt_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("MINZHENG_JWT_SECRET must be at least 32 bytes")
        return value

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
