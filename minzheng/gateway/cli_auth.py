"""``minzheng apikey …``, ``minzheng token`` and ``minzheng persisted …``."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from minzheng.core.settings import get_settings

T = TypeVar("T")

_TTL = re.compile(r"^(\d+)([smhd]?)$")


def parse_ttl(value: str) -> dt.timedelta:
    """``3600``, ``90s``, ``30m``, ``8h``, ``2d``."""
    m = _TTL.match(value.strip().lower())
    if not m or int(m.group(1)) <= 0:
        raise click.BadParameter(f"{value!r}: use a positive number with s, m, h or d (8h)")
    n, unit = int(m.group(1)), m.group(2) or "s"
    return dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def _fail(message: str) -> None:
    click.echo(f"minzheng: {message}", err=True)
    sys.exit(2)


def _region(code: str) -> str:
    from minzheng.core import divisions

    try:
        return divisions.parse(code).prefix
    except divisions.InvalidRegionCode as exc:
        raise click.BadParameter(str(exc)) from exc


def _role_map(settings: Any) -> Any:
    from minzheng.core.auth import RoleMapError
    from minzheng.core.plugins import PluginError, load
    from minzheng.gateway.auth import role_map_for

    try:
        return role_map_for(load(settings.plugins), settings)
    except (PluginError, RoleMapError) as exc:
        _fail(str(exc))


def _with_session(settings: Any, fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(session)`` in one transaction as the unrestricted system."""
    from minzheng.core.db import create_engine, session_factory, transaction
    from minzheng.core.scope import SYSTEM

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(session_factory(engine), principal=SYSTEM) as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


# ----------------------------------------------------------------- api keys


@click.group(help="Integration API keys: create (shown once), revoke, list.")
def apikey() -> None:
    pass


@apikey.command("create", help="Create a key; it is printed once and stored only as a hash.")
@click.option("--name", required=True, help="Unique name of the integration.")
@click.option("--role", required=True, help="Role the key acts as (integration, viewer, …).")
@click.option("--region", required=True, help="Division code the key is scoped to.")
@click.option(
    "--grant", "grants", multiple=True, help="Extra permission beyond the role (repeatable)."
)
def apikey_create(name: str, role: str, region: str, grants: tuple[str, ...]) -> None:
    from minzheng.core.auth import RoleMapError, create_api_key

    settings = get_settings()
    region = _region(region)
    role_map = _role_map(settings)

    async def go(session: Any) -> tuple[Any, str]:
        return await create_api_key(
            session,
            name=name,
            role=role,
            region=region,
            role_map=role_map,
            grants=grants,
            created_by="cli",
        )

    try:
        row, key = _with_session(settings, go)
    except (ValueError, LookupError, RoleMapError) as exc:
        _fail(str(exc))
        return
    click.echo(
        f"created API key {row.name!r}: role {row.role}, region {row.region_code}"
        + (f", grants {row.grants}" if row.grants else ""),
        err=True,
    )
    click.echo("the key is shown once; store it now:", err=True)
    click.echo(key)


@apikey.command("revoke", help="Revoke a key by name; requests with it are refused from now on.")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    from minzheng.core.auth import revoke_api_key

    settings = get_settings()

    async def go(session: Any) -> Any:
        return await revoke_api_key(session, name)

    try:
        row = _with_session(settings, go)
    except LookupError as exc:
        _fail(str(exc.args[0]))
        return
    click.echo(f"revoked API key {row.name!r} at {row.revoked_at:%Y-%m-%d %H:%M:%S}")


@apikey.command("list", help="List keys (never the keys themselves).")
def apikey_list() -> None:
    from minzheng.core.auth import list_api_keys

    settings = get_settings()
    rows = _with_session(settings, list_api_keys)
    if not rows:
        click.echo("no API keys")
        return
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
        used = f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never"
        grants = f" +{r.grants}" if r.grants else ""
        click.echo(
            f"{r.name:24} {r.key_prefix}…  {r.role}{grants:12} {r.region_code}  "
            f"created {r.created_at:%Y-%m-%d}  last used {used}  {state}"
        )


# -------------------------------------------------------------------- token


@click.command(help="Issue a development bearer token signed with MINZHENG_JWT_SECRET.")
@click.option("--role", "roles", required=True, multiple=True, help="Role (repeatable).")
@click.option("--region", required=True, help="Division code of the token's scope.")
@click.option("--ttl", default="8h", show_default=True, help="Lifetime: 3600, 30m, 8h, 2d.")
@click.option("--subject", default=None, help="Subject (default: dev-<role>@<region>).")
def token(roles: tuple[str, ...], region: str, ttl: str, subject: str | None) -> None:
    from minzheng.gateway.auth import issue_token

    settings = get_settings()
    if settings.jwt_secret is None:
        _fail("MINZHENG_JWT_SECRET is not set: there is no key to sign the token with")
        return
    lifetime = parse_ttl(ttl)
    region = _region(region)
    role_map = _role_map(settings)
    for role in roles:
        if role not in role_map.roles:
            _fail(f"unknown role {role!r} (roles: {', '.join(sorted(role_map.roles))})")
    click.echo(
        issue_token(
            settings.jwt_secret,
            subject=subject or f"dev-{roles[0]}@{region}",
            roles=list(roles),
            region=region,
            ttl=lifetime,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    )


# -------------------------------------------------------- persisted queries


@click.group(help="Registered GraphQL documents (persisted queries).")
def persisted() -> None:
    pass


@persisted.command("register", help="Register .graphql files (each file is one document).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def persisted_register(files: tuple[Path, ...]) -> None:
    from graphql import GraphQLError, parse, validate

    from minzheng.core.persisted import register
    from minzheng.core.plugins import PluginError, load
    from minzheng.schema.builder import build_schema

    settings = get_settings()
    try:
        schema = build_schema(load(settings.plugins))
    except PluginError as exc:
        _fail(str(exc))
        return
    paths: list[Path] = []
    for f in files:
        paths.extend(sorted(f.rglob("*.graphql")) if f.is_dir() else [f])
    documents: list[tuple[str, str]] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            errors = validate(schema._schema, parse(text))
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            _fail(f"{path}: {errors[0].message}")
        documents.append((text, path.name))

    async def go(session: Any) -> list[tuple[str, bool, str]]:
        out = []
        for text, name in documents:
            digest, new = await register(session, text, name)
            out.append((digest, new, name))
        return out

    for digest, new, name in _with_session(settings, go):
        click.echo(f"{digest}  {'registered' if new else 'already registered'}  {name}")


@persisted.command("list", help="List registered documents.")
def persisted_list() -> None:
    from sqlalchemy import select

    from minzheng.core.persisted import PersistedQuery

    async def go(session: Any) -> list[Any]:
        return list(
            (await session.scalars(select(PersistedQuery).order_by(PersistedQuery.name))).all()
        )

    for row in _with_session(get_settings(), go):
        click.echo(f"{row.sha256}  {row.created_at:%Y-%m-%d}  {row.name or ''}")


def register(cli: click.Group) -> None:
    cli.add_command(apikey)
    cli.add_command(token)
    cli.add_command(persisted)
