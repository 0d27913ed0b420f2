"""Who is asking: the principal of a request."""

from __future__ import annotations

import time
from typing import Any

import jwt
from starlette.requests import HTTPConnection

from minzheng.core import divisions
from minzheng.core.scope import Principal

DEMO_PRINCIPAL = Principal(
    subject="demo",
    roles=frozenset({"admin"}),
    region="4108",
    permissions=frozenset("*"),
    kind="demo",
)


class AuthError(Exception):
    """Refused credentials: answered with 401 and ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def authenticate(conn: HTTPConnection, state: Any) -> Principal:
    """The principal for a request, or :class:`AuthError`."""
    if state.settings.demo:
        return DEMO_PRINCIPAL
    header = conn.headers.get("authorization", "")
    if not header:
        raise AuthError("UNAUTHENTICATED", "credentials required: send a bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("UNAUTHENTICATED", "use the Bearer scheme")
    secret = state.settings.jwt_secret
    if not secret:
        raise AuthError("INVALID_TOKEN", "token authentication is not configured")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("TOKEN_EXPIRED", "the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError("INVALID_TOKEN", f"the token is invalid: {exc}") from None
    roles = frozenset(claims.get("roles") or ())
    permissions: set[str] = set()
    for role in roles:
        permissions |= ROLE_PERMISSIONS.get(role, set())
    region = claims.get("region") or ""
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        region=divisions.parse(region).prefix if region else "",
        permissions=frozenset(permissions),
    )


ROLE_PERMISSIONS: dict[str, set[str]] = {
    "viewer": {"statistics:read"},
    "caseworker": {"statistics:read", "registry:read", "registry:write", "pii:read"},
    "approver": {"statistics:read", "registry:read", "registry:write", "pii:read"},
    "admin": {"*"},
    "integration": {"statistics:read", "registry:read"},
}


def issue_token(
    secret: str, *, subject: str, roles: list[str], region: str, ttl: int = 3600
) -> str:
    now = int(time.time())
    return jwt.encode(
        {"sub": subject, "roles": roles, "region": region, "iat": now, "exp": now + ttl},
        secret,
        algorithm="HS256",
    )
