"""Integration API keys (接口密钥) over GraphQL: list, create, revoke.

For administrators (``apikey:manage``), within their region like everything
else: a key is placed in a division inside the administrator's region, and may
hold no permission its creator does not hold.  The key itself is returned once,
by ``createApiKey``, and stored only as a hash.  Every change is audited
(``apikey.create``, ``apikey.revoke``); ``minzheng apikey …`` does the same
from the command line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select

from minzheng.core import divisions
from minzheng.core.auth import (
    ApiKey,
    RoleMapError,
    create_api_key,
    revoke_api_key,
    role_map_for,
)
from minzheng.core.errors import NotFound, ValidationFailed
from minzheng.core.hookspecs import SchemaContribution
from minzheng.schema.errors import UserError
from minzheng.schema.limits import list_size
from minzheng.schema.mutations import run
from minzheng.schema.permissions import requires

APIKEY_MANAGE = "apikey:manage"


@strawberry.type(description="接口密钥 An integration's API key (never the key itself)")
class ApiKeyInfo:
    name: str = strawberry.field(description="名称 Unique name of the integration")
    key_prefix: str = strawberry.field(description="前缀 First characters, to recognise the key")
    role: str = strawberry.field(description="角色 The role the key acts as")
    grants: list[str] = strawberry.field(description="附加权限 Permissions beyond the role's")
    region_code: str = strawberry.field(description="区划 The division the key is scoped to")
    created_at: dt.datetime = strawberry.field(description="创建时间 Created at")
    created_by: str = strawberry.field(description="创建人 Created by")
    revoked_at: dt.datetime | None = strawberry.field(description="吊销时间 Revoked at")
    last_used_at: dt.datetime | None = strawberry.field(
        description="最近使用 Last used (updated at most once a minute)"
    )

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyInfo:
        return cls(
            name=row.name,
            key_prefix=row.key_prefix,
            role=row.role,
            grants=row.grant_list,
            region_code=row.region_code,
            created_at=row.created_at,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


@strawberry.input(description="创建接口密钥 Create an integration's API key")
class CreateApiKeyInput:
    name: str = strawberry.field(description="名称 Unique name (1–64 characters)")
    role: str = strawberry.field(description="角色 Role the key acts as (integration, viewer …)")
    region_code: str = strawberry.field(description="区划 Division the key is scoped to")
    grants: list[str] = strawberry.field(
        default_factory=list, description="附加权限 Extra permissions beyond the role's"
    )


@strawberry.type(description="创建结果 The new key: shown here once, stored only as a hash")
class CreateApiKeyPayload:
    api_key: ApiKeyInfo | None
    key: str | None = strawberry.field(description="密钥 The key itself, shown once")
    errors: list[UserError]


@strawberry.input(description="吊销接口密钥 Revoke an API key")
class RevokeApiKeyInput:
    name: str = strawberry.field(description="名称 The key's name")


@strawberry.type(description="吊销结果 The revoked key")
class RevokeApiKeyPayload:
    api_key: ApiKeyInfo | None
    errors: list[UserError]


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(
        description="接口密钥 The API keys of your region, by name",
        extensions=requires(APIKEY_MANAGE),
        metadata=list_size(20),
    )
    async def api_keys(self, info: strawberry.Info) -> list[ApiKeyInfo]:
        rows = await info.context.db.scalars(select(ApiKey).order_by(ApiKey.name))
        return [ApiKeyInfo.of(r) for r in rows]


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(
        description="创建接口密钥 Create an API key (the key is returned once)",
        extensions=requires(APIKEY_MANAGE),
    )
    async def create_api_key(
        self, info: strawberry.Info, input: CreateApiKeyInput
    ) -> CreateApiKeyPayload:
        principal = info.context.principal
        role_map = role_map_for(info.context.plugins, info.context.settings)
        try:
            region = divisions.parse(input.region_code).full
        except divisions.InvalidRegionCode:
            region = None

        # the key stays out of the mutation's result, which change subscribers see
        created: dict[str, Any] = {}

        async def work(session: Any) -> dict[str, Any]:
            if region is None:
                raise ValidationFailed(
                    "input.regionCode",
                    "bad_region_code",
                    f"{input.region_code!r} is not a division code",
                )
            try:
                row, key = await create_api_key(
                    session,
                    name=input.name,
                    role=input.role,
                    region=region,
                    role_map=role_map,
                    grants=input.grants,
                    created_by=principal.subject,
                    creator=principal,
                )
            except LookupError as exc:
                raise ValidationFailed("input.regionCode", "unknown_region", str(exc)) from None
            except RoleMapError as exc:
                raise ValidationFailed(
                    "input.role", "unknown_role_or_permission", str(exc)
                ) from None
            except ValueError as exc:
                raise ValidationFailed("input.name", "bad_name", str(exc)) from None
            created.update(api_key=ApiKeyInfo.of(row), key=key)
            return {"name": row.name, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> CreateApiKeyPayload:
            if result is None:
                return CreateApiKeyPayload(api_key=None, key=None, errors=errors)
            return CreateApiKeyPayload(
                api_key=created["api_key"], key=created["key"], errors=errors
            )

        # no idempotency key: a replay would have to store the key itself
        return await run(info, "createApiKey", work, build)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="吊销接口密钥 Revoke an API key; requests with it are refused from now on",
        extensions=requires(APIKEY_MANAGE),
    )
    async def revoke_api_key(
        self, info: strawberry.Info, input: RevokeApiKeyInput
    ) -> RevokeApiKeyPayload:
        revoked: dict[str, Any] = {}

        async def work(session: Any) -> dict[str, Any]:
            try:
                row = await revoke_api_key(session, input.name)
            except LookupError:
                raise NotFound("ApiKey", input.name) from None
            revoked["api_key"] = ApiKeyInfo.of(row)
            return {"name": row.name, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> RevokeApiKeyPayload:
            return RevokeApiKeyPayload(
                api_key=None if result is None else revoked["api_key"], errors=errors
            )

        return await run(info, "revokeApiKey", work, build)  # type: ignore[no-any-return]


contribution = SchemaContribution(query=ApiKeyQuery, mutation=ApiKeyMutation)
