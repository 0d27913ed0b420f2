"""Who is asking, and what they may do: roles, bearer tokens and API keys.

* **Roles → permissions** live in one place, :class:`RoleMap`: the core's
  permissions (:data:`CORE_PERMISSIONS`), the permissions plugins declare
  through the ``declare_permissions`` hook, and a deployment's overrides read
  from ``MINZHENG_ROLE_MAP_FILE`` (TOML or JSON)::

      [roles.integration]          # change a built-in role
      add = ["pii:read"]
      remove = ["payroll:read"]

      [roles.auditor]              # define a new role
      permissions = ["audit:read", "statistics:read"]

  ``admin`` holds every known permission (including plugins') unless the file
  removes some.  Unknown permission names in the file stop start-up.

* **Bearer JWT** (:class:`TokenVerifier`): HS256 with ``MINZHENG_JWT_SECRET``,
  or RS256/ES256 with a PEM public key or a JWKS file.  Claims: ``sub``,
  ``roles`` (list), ``region`` (division code of the scope), ``exp``.  Every
  refusal is an :class:`AuthError` with its own ``code``.

* **Integration API keys** (:class:`ApiKey`): random, shown once, stored as a
  SHA-256 hash, revocable, last use recorded.  A key carries a role, a region
  and optional extra grants (``registry:write``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core import divisions
from minzheng.core.db import Base
from minzheng.core.hookspecs import Permission
from minzheng.core.scope import SYSTEM, Principal, RegionScoped

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from minzheng.core.settings import Settings


# --------------------------------------------------------------------- errors


class AuthError(Exception):
    """Authentication refused.  ``code`` is stable and shown to the client
    (``extensions.code``); ``status`` is the HTTP status (401 unless noted)."""

    def __init__(self, code: str, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"AuthError({self.code!r}, {self.message!r})"


class RoleMapError(ValueError):
    """The role map (core, plugins, overrides) is inconsistent; start-up stops."""


# ---------------------------------------------------------------------- roles

VIEWER = "viewer"
CASEWORKER = "caseworker"
APPROVER = "approver"
ADMIN = "admin"
INTEGRATION = "integration"
#: The built-in roles, least to most privileged (integration stands apart).
BUILTIN_ROLES = (VIEWER, CASEWORKER, APPROVER, ADMIN, INTEGRATION)

_ALL = BUILTIN_ROLES
_STAFF = (CASEWORKER, APPROVER, ADMIN)

#: The core's permissions and the built-in roles that hold each by default.
CORE_PERMISSIONS: tuple[Permission, ...] = (
    Permission("region:read", "Read the division tree (区划).", _ALL),
    Permission("statistics:read", "Read aggregate statistics (统计数据).", _ALL),
    Permission(
        "registry:read",
        "Read personal records (个人档案): persons, households, incomes, assets, enrolments.",
        (*_STAFF, INTEGRATION),
    ),
    Permission(
        "registry:write", "Register and change persons and households (登记、变更).", _STAFF
    ),
    Permission(
        "pii:read",
        "See ID numbers, phone numbers and addresses unmasked (敏感个人信息); every read audited.",
        _STAFF,
    ),
    Permission("payroll:read", "Read payrolls (发放名册).", (*_STAFF, INTEGRATION)),
    Permission("payroll:write", "Generate and regenerate draft payrolls (生成名册).", _STAFF),
    Permission("payroll:approve", "Approve payrolls (审批名册).", (APPROVER, ADMIN)),
    Permission("audit:read", "Read the audit log (审计日志).", (ADMIN,)),
    Permission("apikey:manage", "Create and revoke integration API keys (接口密钥).", (ADMIN,)),
)


@dataclass(frozen=True)
class RoleMap:
    """Known permissions and the permission set of every role."""

    permissions: Mapping[str, Permission]
    roles: Mapping[str, frozenset[str]]
    #: plugin that declared each permission ("core" for the core's)
    owners: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        plugin_permissions: Iterable[tuple[str, Iterable[Permission]]] = (),
        overrides: Mapping[str, Any] | None = None,
    ) -> RoleMap:
        """Merge the core's permissions, each plugin's, and a deployment's overrides.

        ``plugin_permissions`` is ``(plugin name, permissions)`` pairs (what
        :meth:`LoadedPlugins.results` returns for ``declare_permissions``).  A
        plugin's permissions must be named ``<plugin>:<action>``.
        """
        perms: dict[str, Permission] = {}
        owners: dict[str, str] = {}
        for p in CORE_PERMISSIONS:
            perms[p.name] = p
            owners[p.name] = "core"
        for plugin, declared in plugin_permissions:
            for p in declared or ():
                if not isinstance(p, Permission):
                    raise RoleMapError(
                        f"plugin {plugin!r}: declare_permissions returned {p!r}, not a Permission"
                    )
                if not p.name.startswith(f"{plugin}:") or p.name == f"{plugin}:":
                    raise RoleMapError(
                        f"plugin {plugin!r}: permission {p.name!r} must be named "
                        f"'{plugin}:<action>'"
                    )
                if p.name in perms:
                    raise RoleMapError(
                        f"plugin {plugin!r}: permission {p.name!r} is already declared by "
                        f"{owners[p.name]!r}"
                    )
                unknown = [r for r in p.roles if r not in BUILTIN_ROLES]
                if unknown:
                    raise RoleMapError(
                        f"plugin {plugin!r}: permission {p.name!r} names unknown role(s) "
                        f"{', '.join(unknown)} (built-in roles: {', '.join(BUILTIN_ROLES)})"
                    )
                perms[p.name] = p
                owners[p.name] = plugin

        roles: dict[str, set[str]] = {r: set() for r in BUILTIN_ROLES}
        for p in perms.values():
            for r in p.roles:
                roles[r].add(p.name)
        roles[ADMIN] = set(perms)

        for role, spec in ((overrides or {}).get("roles") or {}).items():
            if not isinstance(spec, Mapping):
                raise RoleMapError(f"role map: roles.{role} must be a table")
            extra_keys = set(spec) - {"permissions", "add", "remove"}
            if extra_keys:
                raise RoleMapError(
                    f"role map: roles.{role}: unknown key(s) {', '.join(sorted(extra_keys))} "
                    "(use permissions, add, remove)"
                )
            for key in ("permissions", "add", "remove"):
                names = spec.get(key, [])
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise RoleMapError(f"role map: roles.{role}.{key} must be a list of names")
                unknown = [n for n in names if n not in perms]
                if unknown:
                    raise RoleMapError(
                        f"role map: roles.{role}.{key}: unknown permission(s) {', '.join(unknown)}"
                    )
            if "permissions" in spec:
                roles[role] = set(spec["permissions"])
            elif role not in roles:
                roles[role] = set()
            roles[role] |= set(spec.get("add", []))
            roles[role] -= set(spec.get("remove", []))

        return cls(
            permissions=perms,
            roles={r: frozenset(p) for r, p in roles.items()},
            owners=owners,
        )

    def permissions_for(self, roles: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for r in roles:
            out |= self.roles.get(r, frozenset())
        return frozenset(out)

    def principal(
        self,
        subject: str,
        roles: Iterable[str],
        region: str,
        *,
        kind: str = "user",
        grants: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> Principal:
        """A principal for ``roles`` in ``region`` (any division-code form)."""
        roles = frozenset(roles)
        prefix = divisions.parse(region).prefix
        perms = self.permissions_for(roles) | (frozenset(grants) & frozenset(self.permissions))
        return Principal(
            subject=subject,
            roles=roles,
            region=prefix,
            permissions=perms,
            kind=kind,
            extra=extra or {},
        )

    def check_role(self, role: str) -> None:
        if role not in self.roles:
            raise RoleMapError(f"unknown role {role!r} (roles: {', '.join(sorted(self.roles))})")

    def check_grants(self, grants: Iterable[str]) -> None:
        unknown = [g for g in grants if g not in self.permissions]
        if unknown:
            raise RoleMapError(f"unknown permission(s): {', '.join(unknown)}")


def load_role_map_file(path: str | Path) -> dict[str, Any]:
    """Read a role-map override file (``.toml`` or ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoleMapError(f"role map {path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise RoleMapError(f"role map {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RoleMapError(f"role map {path}: top level must be a table/object")
    return data


def role_map_from(plugin_permissions: Iterable[tuple[str, Any]], settings: Settings) -> RoleMap:
    """The deployment's role map: core + plugins + ``MINZHENG_ROLE_MAP_FILE``."""
    overrides = load_role_map_file(settings.role_map_file) if settings.role_map_file else None
    return RoleMap.build(plugin_permissions, overrides)


def role_map_for(plugins: Any, settings: Any) -> RoleMap:
    """The deployment's role map from the enabled plugins' declared permissions
    (``plugins``: :class:`~minzheng.core.plugins.LoadedPlugins`, or None)."""
    declared = plugins.results("declare_permissions") if plugins is not None else []
    return role_map_from(declared, settings)


# --------------------------------------------------------------------- tokens

_HMAC = ("HS256", "HS384", "HS512")
_ASYMMETRIC = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    roles: tuple[str, ...]
    region: str
    claims: dict[str, Any]


class TokenVerifier:
    """Verifies bearer JWTs against the configured key material.

    The token's ``alg`` must be one of ``algorithms``; HMAC algorithms verify
    with the secret only and asymmetric ones with the public key(s) only, so a
    public key can never be used as an HMAC secret.
    """

    def __init__(
        self,
        *,
        algorithms: Sequence[str] = ("HS256",),
        secret: str | bytes | None = None,
        public_key: Any = None,
        jwks: jwt.PyJWKSet | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: int = 30,
        roles_claim: str = "roles",
        region_claim: str = "region",
    ) -> None:
        algs = tuple(algorithms)
        bad = [a for a in algs if a.lower() == "none" or a not in (*_HMAC, *_ASYMMETRIC)]
        if bad:
            raise ValueError(f"unsupported JWT algorithm(s): {', '.join(bad)}")
        if any(a in _HMAC for a in algs) and not secret:
            algs = tuple(a for a in algs if a not in _HMAC)
        if any(a in _ASYMMETRIC for a in algs) and public_key is None and jwks is None:
            algs = tuple(a for a in algs if a not in _ASYMMETRIC)
        if secret is not None and isinstance(secret, str) and len(secret.encode()) < 32:
            raise ValueError("the JWT secret must be at least 32 bytes")
        self.algorithms = algs
        self.secret = secret
        self.public_key = public_key
        self.jwks = jwks
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        self.roles_claim = roles_claim
        self.region_claim = region_claim
        #: token → (its claims, its ``exp``): tokens verified already
        self._verified: dict[str, tuple[TokenClaims, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        public_key = None
        jwks = None
        if settings.jwt_public_key_file:
            public_key = Path(settings.jwt_public_key_file).read_bytes()
        if settings.jwt_jwks_file:
            jwks = jwt.PyJWKSet.from_json(Path(settings.jwt_jwks_file).read_text("utf-8"))
        return cls(
            algorithms=settings.jwt_algorithms,
            secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
            public_key=public_key,
            jwks=jwks,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            roles_claim=settings.jwt_roles_claim,
            region_claim=settings.jwt_region_claim,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.algorithms)

    def _key_for(self, alg: str, header: Mapping[str, Any]) -> Any:
        if alg in _HMAC:
            return self.secret
        kid = header.get("kid")
        if self.jwks is not None:
            candidates = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
            if kid is not None and not candidates:
                raise AuthError("TOKEN_UNKNOWN_KEY", f"no configured key has kid {kid!r}")
            if not candidates and self.public_key is None:
                raise AuthError("TOKEN_UNKNOWN_KEY", "the token names no key (kid)")
            if len(candidates) > 1 and kid is None:
                raise AuthError("TOKEN_UNKNOWN_KEY", "the token names no key (kid)")
            if candidates:
                key = candidates[0]
                if key.algorithm_name != alg:
                    raise AuthError(
                        "TOKEN_ALGORITHM_REFUSED",
                        f"key {kid!r} is for {key.algorithm_name}, the token says {alg}",
                    )
                return key.key
        return self.public_key

    #: verified tokens kept at most; the oldest goes first
    VERIFIED_MAX = 4096

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or :class:`AuthError` saying what is wrong with it.

        A client sends the same token with every request until it expires, and
        verifying one (decoding, the signature, every claim) cost a quarter of a
        small request.  A token verified once is kept with its claims; for a
        kept token only the expiry is checked again, as PyJWT checks it (the
        other checks give the same answer for the same token and keys, and
        ``nbf``/``iat``, once passed, stay passed)."""
        kept = self._verified.get(token)
        if kept is not None:
            claims, expires = kept
            if expires > time.time() - self.leeway:
                return claims
            del self._verified[token]
            raise AuthError("TOKEN_EXPIRED", "the token has expired")
        claims = self._verify(token)
        exp = claims.claims.get("exp")
        if isinstance(exp, int | float):  # required; PyJWT checked it is a number
            if len(self._verified) >= self.VERIFIED_MAX:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (claims, float(exp))
        return claims

    def _verify(self, token: str) -> TokenClaims:
        if not self.enabled:
            raise AuthError("TOKEN_NOT_ACCEPTED", "this server accepts no bearer tokens")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise AuthError("TOKEN_MALFORMED", f"not a JWT: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise AuthError("TOKEN_ALGORITHM_REFUSED", "unsigned tokens (alg: none) are refused")
        if alg not in self.algorithms:
            raise AuthError(
                "TOKEN_ALGORITHM_REFUSED",
                f"algorithm {alg} is not accepted (accepted: {', '.join(self.algorithms)})",
            )
        key = self._key_for(alg, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": True,
                    "verify_iss": self.issuer is not None,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("TOKEN_EXPIRED", "the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError("TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf)") from exc
        except jwt.InvalidIssuedAtError as exc:
            raise AuthError("TOKEN_NOT_YET_VALID", "the token was issued in the future") from exc
        except jwt.InvalidAudienceError as exc:
            want = self.audience or "none"
            raise AuthError(
                "TOKEN_WRONG_AUDIENCE", f"the token is for another audience (expected {want})"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("TOKEN_WRONG_ISSUER", "the token comes from another issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            code = "TOKEN_WRONG_AUDIENCE" if exc.claim == "aud" else "TOKEN_MISSING_CLAIM"
            raise AuthError(code, f"the token has no {exc.claim!r} claim") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise AuthError("TOKEN_ALGORITHM_REFUSED", str(exc)) from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError(
                "TOKEN_BAD_SIGNATURE",
                "the signature does not verify: the token was altered or signed with another key",
            ) from exc
        except jwt.DecodeError as exc:
            raise AuthError("TOKEN_MALFORMED", f"the token cannot be decoded: {exc}") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthError("TOKEN_INVALID", f"the token is invalid: {exc}") from exc

        subject = claims.get("sub")
        roles = claims.get(self.roles_claim)
        region = claims.get(self.region_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthError("TOKEN_MISSING_CLAIM", "the token's 'sub' claim must be a string")
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError(
                "TOKEN_MISSING_CLAIM", f"the token's {self.roles_claim!r} claim must be a list"
            )
        if not isinstance(region, str):
            raise AuthError("TOKEN_MISSING_CLAIM", f"the token has no {self.region_claim!r} claim")
        try:
            region = divisions.parse(region).prefix
        except divisions.InvalidRegionCode as exc:
            raise AuthError(
                "TOKEN_BAD_REGION", f"the token's region {region!r} is not a division code"
            ) from exc
        return TokenClaims(subject=subject, roles=tuple(roles), region=region, claims=claims)


def issue_token(
    secret: str | bytes,
    *,
    subject: str,
    roles: Sequence[str],
    region: str,
    ttl: dt.timedelta = dt.timedelta(hours=8),
    audience: str | None = "minzheng",
    issuer: str | None = None,
    now: dt.datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 token (``minzheng token``, tests, the demo server)."""
    now = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "region": divisions.parse(region).prefix,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")


# ------------------------------------------------------------------- API keys

API_KEY_PREFIX = "mzk_"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApiKey(RegionScoped, Base):
    """An integration's API key (接口密钥).  Only its SHA-256 hash is stored.

    Region-scoped like every other row: an administrator manages the keys of
    their own region only.
    """

    __tablename__ = "api_key"
    #: keys are not counted in any division figure
    feeds_region_figures = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: first characters of the key, to recognise it in listings
    key_prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    #: extra permissions beyond the role's, comma-separated ("registry:write")
    grants: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def grant_list(self) -> list[str]:
        return [g for g in (self.grants or "").split(",") if g]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    region: str,
    role_map: RoleMap,
    grants: Sequence[str] = (),
    created_by: str = "system",
    creator: Principal | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself (shown once, never stored).

    With ``creator`` (an administrator over GraphQL), the key may hold no
    permission the creator does not hold; the session's region scope keeps it
    inside the creator's region.  Audited as ``apikey.create`` (never the key)."""
    from minzheng.core import audit
    from minzheng.core.errors import Forbidden

    role_map.check_role(role)
    role_map.check_grants(grants)
    name = name.strip()
    if not name or len(name) > 64:
        raise ValueError("the key's name must be 1–64 characters")
    if creator is not None and "*" not in creator.permissions:
        wanted = role_map.principal("key", [role], region, grants=grants).permissions
        beyond = sorted(wanted - creator.permissions)
        if beyond:
            raise Forbidden(f"the key would hold permissions you do not hold: {', '.join(beyond)}")
    from minzheng.core.models import Region

    full = divisions.parse(region).full
    if await session.scalar(select(Region.code).where(Region.code == full)) is None:
        raise LookupError(f"no division {full}")
    existing = await session.scalar(
        # names are unique across regions: a key elsewhere is not shown, but taken
        select(ApiKey.id).where(ApiKey.name == name).execution_options(skip_scope=True)
    )
    if existing is not None:
        raise ValueError(f"an API key named {name!r} already exists")
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        key_hash=hash_api_key(secret),
        key_prefix=secret[:12],
        role=role,
        grants=",".join(dict.fromkeys(grants)),
        created_by=created_by,
    )
    row.place(full)
    session.add(row)
    await session.flush()
    audit.record(session, action="apikey.create", entity=row, after=_key_snapshot(row))
    return row, secret


def _key_snapshot(row: ApiKey) -> dict[str, Any]:
    return {
        "name": row.name,
        "key_prefix": row.key_prefix,
        "role": row.role,
        "grants": row.grant_list,
        "region_code": row.region_code,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


async def revoke_api_key(session: AsyncSession, name: str) -> ApiKey:
    """Revoke a key by name (a second revocation changes nothing); audited as
    ``apikey.revoke``."""
    from minzheng.core import audit

    row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise LookupError(f"no API key named {name!r}")
    if row.revoked_at is None:
        before = _key_snapshot(row)
        row.revoked_at = _utcnow()
        await session.flush()
        audit.record(
            session, action="apikey.revoke", entity=row, before=before, after=_key_snapshot(row)
        )
    return row


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.name))).all())


# ------------------------------------------------------------- authentication


@dataclass
class Authenticator:
    """Turns presented credentials into a :class:`Principal`, or an :class:`AuthError`."""

    verifier: TokenVerifier
    role_map: RoleMap
    session_factory: async_sessionmaker[AsyncSession] | None = None
    touch_interval: dt.timedelta = dt.timedelta(seconds=60)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        role_map: RoleMap,
        session_factory: async_sessionmaker[AsyncSession] | None,
    ) -> Authenticator:
        return cls(
            verifier=TokenVerifier.from_settings(settings),
            role_map=role_map,
            session_factory=session_factory,
            touch_interval=dt.timedelta(seconds=settings.api_key_touch_seconds),
        )

    def from_token(self, token: str) -> Principal:
        claims = self.verifier.verify(token)
        known = [r for r in claims.roles if r in self.role_map.roles]
        if not known:
            raise AuthError(
                "TOKEN_NO_KNOWN_ROLE",
                f"the token carries no known role (got: {', '.join(claims.roles) or 'none'})",
                status=403,
            )
        return self.role_map.principal(
            claims.subject,
            known,
            claims.region,
            kind="user",
            extra={"jti": claims.claims.get("jti")},
        )

    async def from_api_key(self, key: str) -> Principal:
        if self.session_factory is None:
            raise AuthError("API_KEY_NOT_ACCEPTED", "this server accepts no API keys")
        digest = hash_api_key(key)
        async with self.session_factory() as session:
            session.info["principal"] = SYSTEM
            async with session.begin():
                row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
                if row is None:
                    raise AuthError("API_KEY_UNKNOWN", "the API key is not known")
                if row.revoked_at is not None:
                    raise AuthError("API_KEY_REVOKED", f"the API key {row.name!r} was revoked")
                now = _utcnow()
                last = row.last_used_at
                if last is not None and last.tzinfo is None:
                    last = last.replace(tzinfo=dt.UTC)
                if last is None or now - last >= self.touch_interval:
                    row.last_used_at = now
                if row.role not in self.role_map.roles:
                    raise AuthError(
                        "API_KEY_BAD_ROLE",
                        f"the API key's role {row.role!r} is not defined",
                        status=403,
                    )
                return self.role_map.principal(
                    f"apikey:{row.name}",
                    [row.role],
                    row.region_code,
                    kind="integration",
                    grants=row.grant_list,
                    extra={"api_key_id": row.id},
                )

    async def authenticate(
        self, authorization: str | None, api_key: str | None = None
    ) -> Principal:
        """From an ``Authorization`` header value and/or an ``X-API-Key`` value."""
        if api_key:
            return await self.from_api_key(api_key.strip())
        if not authorization:
            raise AuthError(
                "UNAUTHENTICATED",
                "credentials required: 'Authorization: Bearer <token or API key>'",
            )
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(
                "BAD_AUTHORIZATION_HEADER", "the Authorization header must be 'Bearer <credential>'"
            )
        if looks_like_api_key(credential):
            return await self.from_api_key(credential)
        return self.from_token(credential)


__all__ = [
    "ADMIN",
    "APPROVER",
    "BUILTIN_ROLES",
    "CASEWORKER",
    "CORE_PERMISSIONS",
    "INTEGRATION",
    "VIEWER",
    "ApiKey",
    "AuthError",
    "Authenticator",
    "RoleMap",
    "RoleMapError",
    "TokenClaims",
    "TokenVerifier",
    "create_api_key",
    "hash_api_key",
    "issue_token",
    "list_api_keys",
    "load_role_map_file",
    "revoke_api_key",
    "role_map_for",
    "role_map_from",
]
