"""Who is asking: the principal of a request.

Credentials, in order: ``X-API-Key: mzk_…``; ``Authorization: Bearer <JWT>``;
``Authorization: Bearer mzk_…``.  Nothing else is accepted, and no credentials
is a 401 — except on the demo server (``MINZHENG_DEMO=1``, loopback only), where
a request without credentials runs as the demo administrator of 焦作市.

The role map (core + enabled plugins + ``MINZHENG_ROLE_MAP_FILE``) and the token
verifier are built once per app, on the first request, and kept on the app state.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import secrets
from typing import Any

from pydantic import SecretStr
from starlette.requests import HTTPConnection

from minzheng.core.auth import (
    ADMIN,
    Authenticator,
    AuthError,
    RoleMap,
    role_map_for,
)
from minzheng.core.auth import issue_token as _issue_token
from minzheng.core.scope import Principal

__all__ = [
    "DEMO_REGION",
    "AuthError",
    "authenticate",
    "authenticator_for",
    "check_row_security",
    "demo_graphiql_html",
    "issue_token",
    "prepare_demo",
    "role_map_for",
]

DEMO_REGION = "4108"
DEMO_NOTICE = "DEMO SERVER: open access on this machine, demo data only"
_KEY = "_minzheng_authenticator"


def authenticator_for(state: Any) -> Authenticator:
    """The app's :class:`Authenticator`, built on first use."""
    auth = getattr(state, _KEY, None)
    if auth is None:
        auth = Authenticator.from_settings(
            state.settings,
            role_map_for(getattr(state, "plugins", None), state.settings),
            getattr(state, "sessions", None),
        )
        setattr(state, _KEY, auth)
    return auth


def demo_principal(role_map: RoleMap) -> Principal:
    p = role_map.principal("demo", [ADMIN], DEMO_REGION, kind="demo")
    return p


async def authenticate(conn: HTTPConnection, state: Any) -> Principal:
    """The principal for a request, or :class:`AuthError` (401, or 403 for a
    valid credential that carries no known role)."""
    auth = authenticator_for(state)
    authorization = conn.headers.get("authorization")
    api_key = conn.headers.get("x-api-key")
    if state.settings.demo and not authorization and not api_key:
        return demo_principal(auth.role_map)
    return await auth.authenticate(authorization, api_key)


def has_credentials(conn: HTTPConnection) -> bool:
    return bool(conn.headers.get("authorization") or conn.headers.get("x-api-key"))


def connection_credentials(params: Any) -> tuple[str | None, str | None]:
    """(authorization, API key) from a websocket's ``connection_init`` payload.

    Browsers cannot set headers on a WebSocket, so GraphQL clients send them
    there: ``{"Authorization": "Bearer …"}``, any case, or nested under
    ``"headers"`` as Apollo's clients do; an API key as ``X-API-Key`` or
    ``apiKey``."""
    if not isinstance(params, dict):
        return None, None
    found: dict[str, Any] = {}
    nested = params.get("headers")
    for source in (nested if isinstance(nested, dict) else {}, params):
        for name, value in source.items():
            if isinstance(name, str) and isinstance(value, str):
                found.setdefault(name.lower().replace("_", "-"), value)
    return found.get("authorization"), found.get("x-api-key") or found.get("apikey")


async def authenticate_connection(params: Any, state: Any) -> Principal:
    """The principal for a websocket whose handshake carried no credentials,
    from its ``connection_init`` payload (see :func:`connection_credentials`)."""
    authorization, api_key = connection_credentials(params)
    return await authenticator_for(state).authenticate(authorization, api_key)


def issue_token(
    secret: str | SecretStr,
    *,
    subject: str,
    roles: list[str],
    region: str,
    ttl: int | dt.timedelta = 3600,
    audience: str | None = "minzheng",
    issuer: str | None = None,
    **kwargs: Any,
) -> str:
    """An HS256 token (development, tests, ``minzheng token``, the demo)."""
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    if isinstance(ttl, int):
        ttl = dt.timedelta(seconds=ttl)
    return _issue_token(
        secret,
        subject=subject,
        roles=roles,
        region=region,
        ttl=ttl,
        audience=audience,
        issuer=issuer,
        **kwargs,
    )


def prepare_demo(settings: Any, host: str | None = None, *, export: bool = False) -> str:
    """Check the demo may start on ``host`` and return a ready-made admin token.

    Gives the demo a random secret when none is configured; ``export`` also puts
    it in ``MINZHENG_JWT_SECRET`` so that uvicorn worker processes share it.
    """
    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(
            f"the demo server binds to the loopback interface only, not {host!r}: "
            "it answers without credentials"
        )
    if settings.jwt_secret is None:
        secret = secrets.token_urlsafe(32)
        settings.jwt_secret = SecretStr(secret)
        if export:
            os.environ["MINZHENG_JWT_SECRET"] = secret
    return issue_token(
        settings.jwt_secret,
        subject="demo-admin",
        roles=[ADMIN],
        region=DEMO_REGION,
        ttl=dt.timedelta(hours=12),
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )


def demo_graphiql_html(base_html: str, token: str | None) -> str:
    """GraphiQL whose default headers say this is a demo (and carry the token)."""
    headers: dict[str, str] = {"X-Minzheng-Demo": DEMO_NOTICE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    as_js = json.dumps(headers, ensure_ascii=False)
    pretty = json.dumps(json.dumps(headers, ensure_ascii=False, indent=2), ensure_ascii=False)
    out = base_html.replace(
        "const defaultHeaders = {};", f"const defaultHeaders = {as_js};", 1
    ).replace(
        "React.useState(parameters.headers)",
        f"React.useState(parameters.headers || {pretty})",
        1,
    )
    return out.replace("<title>", f"<title>{html.escape('[DEMO] ')}", 1)


async def check_row_security(engine: Any, settings: Any) -> list[str]:
    """On PostgreSQL, log what would let rows escape their region (superuser
    role, missing or unforced policies); refuse to start when
    ``MINZHENG_RLS_REQUIRED`` is set and anything is wrong."""
    import logging

    from minzheng.core import rls

    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as conn:
        problems: list[str] = await conn.run_sync(rls.problems)
    log = logging.getLogger("minzheng.security")
    for p in problems:
        log.warning("row-level security: %s", p)
    if problems and settings.rls_required:
        raise RuntimeError("row-level security is not enforced: " + "; ".join(problems))
    return problems
