"""Bearer tokens, API keys and the role map."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from minzheng.core.auth import (
    ApiKey,
    Authenticator,
    AuthError,
    RoleMap,
    RoleMapError,
    TokenVerifier,
    create_api_key,
    issue_token,
    load_role_map_file,
    revoke_api_key,
)
from minzheng.core.hookspecs import Permission
from minzheng.core.scope import SYSTEM

from .dbkit import T1, WUZHI, Db

SECRET = "s" * 40
NOW = dt.datetime.now(dt.UTC)


def hs_verifier(**kw: object) -> TokenVerifier:
    return TokenVerifier(algorithms=("HS256",), secret=SECRET, audience="minzheng", **kw)  # type: ignore[arg-type]


def token(**kw: object) -> str:
    args: dict = {"subject": "u1", "roles": ["caseworker"], "region": WUZHI}
    args.update(kw)
    return issue_token(SECRET, **args)


def b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def code_of(fn, *a) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError) as exc:
        fn(*a)
    return exc.value.code


# ------------------------------------------------------------------ tokens


def test_a_good_token_gives_its_claims() -> None:
    claims = hs_verifier().verify(token(region="410823000000"))
    assert (claims.subject, claims.roles, claims.region) == ("u1", ("caseworker",), WUZHI)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: token(now=NOW - dt.timedelta(hours=9)), "TOKEN_EXPIRED"),
        (lambda: token(now=NOW + dt.timedelta(hours=1)), "TOKEN_NOT_YET_VALID"),
        (lambda: token(audience="other"), "TOKEN_WRONG_AUDIENCE"),
        (lambda: token(audience=None), "TOKEN_WRONG_AUDIENCE"),
        (
            lambda: issue_token("t" * 40, subject="u", roles=["admin"], region=WUZHI),
            "TOKEN_BAD_SIGNATURE",
        ),
        (lambda: "not.a.jwt", "TOKEN_MALFORMED"),
        (lambda: "garbage", "TOKEN_MALFORMED"),
        (lambda: token(extra={"region": "41xx"}), "TOKEN_BAD_REGION"),
        (lambda: token(extra={"roles": 3}), "TOKEN_MISSING_CLAIM"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "wrong-aud",
        "no-aud",
        "other-key",
        "malformed",
        "garbage",
        "bad-region",
        "bad-roles",
    ],
)
def test_refused_tokens_have_their_own_code(make, code: str) -> None:  # type: ignore[no-untyped-def]
    assert code_of(hs_verifier().verify, make()) == code


def test_a_verified_token_is_kept_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    v = hs_verifier(leeway=30)
    good = token(ttl=dt.timedelta(minutes=5))
    first = v.verify(good)
    assert v.verify(good) is first  # kept: not decoded again

    def no_decoding(*_a: object, **_k: object) -> None:
        raise AssertionError("a kept token is not decoded again")

    monkeypatch.setattr(jwt, "decode", no_decoding)
    assert v.verify(good).subject == "u1"
    monkeypatch.undo()

    # its expiry is checked on every use, with the same leeway as a fresh one
    import minzheng.core.auth as auth

    later = auth.time.time() + 5 * 60 + 29
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert v.verify(good) is first
    monkeypatch.setattr(auth.time, "time", lambda: later + 2)
    assert code_of(v.verify, good) == "TOKEN_EXPIRED"
    assert good not in v._verified
    # a token refused once is refused again: nothing is kept for it
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    monkeypatch.undo()
    assert code_of(v.verify, forged) == "TOKEN_BAD_SIGNATURE"
    assert code_of(v.verify, forged) == "TOKEN_BAD_SIGNATURE"


def test_the_verified_tokens_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    v = hs_verifier()
    monkeypatch.setattr(TokenVerifier, "VERIFIED_MAX", 3)
    tokens = [token(subject=f"u{i}") for i in range(5)]
    for t in tokens:
        v.verify(t)
    assert list(v._verified) == tokens[2:]  # the oldest went first
    assert v.verify(tokens[0]).subject == "u0"  # verified again when asked


def test_tampered_payload_is_refused() -> None:
    head, _payload, sig = token().split(".")
    forged = jwt.decode(token(), options={"verify_signature": False})
    forged["roles"] = ["admin"]
    forged["region"] = "4108"
    assert code_of(hs_verifier().verify, f"{head}.{b64(forged)}.{sig}") == "TOKEN_BAD_SIGNATURE"


def test_alg_none_is_refused() -> None:
    claims = jwt.decode(token(), options={"verify_signature": False})
    for alg in ("none", "None", "NONE"):
        unsigned = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."
        assert code_of(hs_verifier().verify, unsigned) == "TOKEN_ALGORITHM_REFUSED"


def test_algorithm_not_configured_is_refused() -> None:
    hs512 = jwt.encode({"sub": "u", "exp": NOW + dt.timedelta(hours=1)}, SECRET * 2, "HS512")
    assert code_of(hs_verifier().verify, hs512) == "TOKEN_ALGORITHM_REFUSED"


def test_rs256_public_key_cannot_be_used_as_hmac_secret(tmp_path: Path) -> None:
    """The classic key-confusion attack: sign HS256 with the server's public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    v = TokenVerifier(algorithms=("RS256", "HS256"), public_key=pem, audience="minzheng")
    assert v.algorithms == ("RS256",), "HS256 without a secret is not accepted at all"
    claims = {
        "sub": "u",
        "roles": ["admin"],
        "region": "4108",
        "aud": "minzheng",
        "exp": NOW + dt.timedelta(hours=1),
    }
    body = {**claims, "exp": int(claims["exp"].timestamp())}
    forged = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(body)}"
    import hashlib
    import hmac

    sig = (
        base64.urlsafe_b64encode(hmac.new(pem, forged.encode(), hashlib.sha256).digest())
        .rstrip(b"=")
        .decode()
    )
    assert code_of(v.verify, f"{forged}.{sig}") == "TOKEN_ALGORITHM_REFUSED"
    good = jwt.encode(claims, key, algorithm="RS256")
    assert v.verify(good).roles == ("admin",)


def test_es256_with_jwks_file(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", alg="ES256", use="sig")
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    from minzheng.core.settings import Settings

    v = TokenVerifier.from_settings(
        Settings(
            jwt_algorithms=("ES256",),
            jwt_jwks_file=tmp_path / "jwks.json",
            jwt_issuer="https://idp.example",
        )
    )
    claims = {
        "sub": "u",
        "roles": ["viewer"],
        "region": "410823",
        "aud": "minzheng",
        "iss": "https://idp.example",
        "exp": NOW + dt.timedelta(hours=1),
    }
    ok = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
    assert v.verify(ok).region == WUZHI
    assert (
        code_of(v.verify, jwt.encode(claims, other, algorithm="ES256", headers={"kid": "k1"}))
        == "TOKEN_BAD_SIGNATURE"
    )
    assert (
        code_of(v.verify, jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k9"}))
        == "TOKEN_UNKNOWN_KEY"
    )
    wrong_iss = {**claims, "iss": "https://evil.example"}
    assert (
        code_of(v.verify, jwt.encode(wrong_iss, key, algorithm="ES256", headers={"kid": "k1"}))
        == "TOKEN_WRONG_ISSUER"
    )
    no_exp = {k: v_ for k, v_ in claims.items() if k != "exp"}
    assert (
        code_of(v.verify, jwt.encode(no_exp, key, algorithm="ES256", headers={"kid": "k1"}))
        == "TOKEN_MISSING_CLAIM"
    )


def test_short_secret_and_none_algorithm_are_configuration_errors() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenVerifier(algorithms=("HS256",), secret="short")
    with pytest.raises(ValueError, match="none"):
        TokenVerifier(algorithms=("none",), secret=SECRET)


# ---------------------------------------------------------------- role map


def test_builtin_roles() -> None:
    rm = RoleMap.build()
    viewer = rm.principal("v", ["viewer"], WUZHI)
    case = rm.principal("c", ["caseworker"], T1)
    integ = rm.principal("i", ["integration"], WUZHI)
    admin = rm.principal("a", ["admin"], "410800")
    assert viewer.can("statistics:read") and not viewer.can("registry:read")
    assert not viewer.can("pii:read")
    assert case.can("registry:write") and case.can("pii:read") and not case.can("audit:read")
    assert not case.can("payroll:approve")
    assert rm.principal("p", ["approver"], WUZHI).can("payroll:approve")
    assert integ.can("registry:read") and not integ.can("registry:write")
    assert not integ.can("pii:read")
    assert admin.can("apikey:manage") and admin.region == "4108"
    granted = rm.principal("i", ["integration"], WUZHI, grants=["registry:write", "bogus"])
    assert granted.can("registry:write") and not granted.can("bogus")


def test_plugin_permissions_merge_and_admin_gets_them() -> None:
    rm = RoleMap.build([("probe", [Permission("probe:write", "w", ("caseworker",))])])
    assert rm.principal("c", ["caseworker"], T1).can("probe:write")
    assert rm.principal("a", ["admin"], T1).can("probe:write")
    assert not rm.principal("v", ["viewer"], T1).can("probe:write")


@pytest.mark.parametrize(
    ("declared", "match"),
    [
        ([("probe", [Permission("pii:read", "steal", ())])], "must be named 'probe:"),
        ([("probe", [Permission("probe:x", "", ("root",))])], "unknown role"),
        (
            [
                ("probe", [Permission("probe:x", "", ())]),
                ("probe", [Permission("probe:x", "", ())]),
            ],
            "already declared",
        ),
        ([("probe", ["probe:x"])], "not a Permission"),
    ],
)
def test_bad_plugin_permissions_stop_startup(declared, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RoleMapError, match=match):
        RoleMap.build(declared)


def test_role_map_file_overrides(tmp_path: Path) -> None:
    f = tmp_path / "roles.toml"
    f.write_text(
        '[roles.integration]\nadd = ["pii:read"]\nremove = ["payroll:read"]\n'
        '[roles.auditor]\npermissions = ["audit:read"]\n'
        '[roles.admin]\nremove = ["apikey:manage"]\n'
    )
    rm = RoleMap.build((), load_role_map_file(f))
    integ = rm.principal("i", ["integration"], WUZHI)
    assert integ.can("pii:read") and not integ.can("payroll:read")
    assert rm.principal("x", ["auditor"], WUZHI).permissions == {"audit:read"}
    assert not rm.principal("a", ["admin"], WUZHI).can("apikey:manage")
    j = tmp_path / "roles.json"
    j.write_text(json.dumps({"roles": {"viewer": {"add": ["nope:x"]}}}))
    with pytest.raises(RoleMapError, match="unknown permission"):
        RoleMap.build((), load_role_map_file(j))
    bad = tmp_path / "bad.toml"
    bad.write_text("[roles.viewer]\ngrant = ['x']\n")
    with pytest.raises(RoleMapError, match="unknown key"):
        RoleMap.build((), load_role_map_file(bad))
    with pytest.raises(RoleMapError, match="cannot read"):
        load_role_map_file(tmp_path / "missing.toml")


# ------------------------------------------------------------ authenticator


async def test_authenticator_tokens() -> None:
    auth = Authenticator(hs_verifier(), RoleMap.build())
    p = await auth.authenticate(f"Bearer {token(roles=['viewer', 'offline_access'])}")
    assert p.roles == {"viewer"} and p.region == WUZHI and p.kind == "user"
    for header, code in [
        (None, "UNAUTHENTICATED"),
        ("", "UNAUTHENTICATED"),
        ("Basic dXNlcjpwdw==", "BAD_AUTHORIZATION_HEADER"),
        ("Bearer", "BAD_AUTHORIZATION_HEADER"),
    ]:
        with pytest.raises(AuthError) as exc:
            await auth.authenticate(header)
        assert exc.value.code == code
    with pytest.raises(AuthError) as exc:
        await auth.authenticate(f"Bearer {token(roles=['root'])}")
    assert exc.value.code == "TOKEN_NO_KNOWN_ROLE" and exc.value.status == 403


async def test_api_keys(sdb: Db) -> None:
    rm = RoleMap.build()
    async with sdb.session(SYSTEM) as s:
        row, key = await create_api_key(
            s,
            name="province-platform",
            role="integration",
            region="410823",
            role_map=rm,
            grants=["registry:write"],
        )
        assert key.startswith("mzk_") and len(key) > 40
        assert row.key_hash != key and key not in (row.key_hash, row.key_prefix + "x")
        assert row.region_code == "410823000000" and row.county_code == "410823000000"
        with pytest.raises(ValueError, match="already exists"):
            await create_api_key(
                s, name="province-platform", role="viewer", region="4108", role_map=rm
            )
        with pytest.raises(RoleMapError, match="unknown role"):
            await create_api_key(s, name="x", role="root", region="4108", role_map=rm)
    auth = Authenticator(hs_verifier(), rm, sdb.factory)
    p = await auth.authenticate(f"Bearer {key}")
    assert p.kind == "integration" and p.region == WUZHI
    assert p.can("registry:write") and p.can("registry:read") and not p.can("pii:read")
    assert (await auth.authenticate(None, api_key=key)).subject == "apikey:province-platform"
    async with sdb.session(SYSTEM) as s:
        stored = await s.scalar(select(ApiKey).where(ApiKey.name == "province-platform"))
        assert stored is not None and stored.last_used_at is not None
        assert stored.key_hash == __import__("hashlib").sha256(key.encode()).hexdigest()
    with pytest.raises(AuthError) as exc:
        await auth.authenticate(f"Bearer {key[:-2]}xx")
    assert exc.value.code == "API_KEY_UNKNOWN"
    async with sdb.session(SYSTEM) as s:
        await revoke_api_key(s, "province-platform")
        with pytest.raises(LookupError):
            await revoke_api_key(s, "nope")
    with pytest.raises(AuthError) as exc:
        await auth.authenticate(f"Bearer {key}")
    assert exc.value.code == "API_KEY_REVOKED"


async def test_api_keys_are_region_scoped_for_admins(sdb: Db) -> None:
    rm = RoleMap.build()
    async with sdb.session(SYSTEM) as s:
        await create_api_key(s, name="wenxian-feed", role="viewer", region="410825", role_map=rm)
    admin = rm.principal("a", ["admin"], WUZHI)
    async with sdb.session(admin) as s:
        names = (await s.scalars(select(ApiKey.name))).all()
    assert "wenxian-feed" not in names
