"""Authentication, API keys, request and query limits, persisted queries and the
demo server — over HTTP against the app."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from conftest import EXAMPLE, SECRET, settings_for
from minzheng.core.auth import RoleMap, create_api_key
from minzheng.core.persisted import document_hash, register
from minzheng.core.scope import SYSTEM
from minzheng.gateway.app import create_app

from .world import COUNTY, TOWNSHIP, World, bearer, build_world

Q = "{ persons(first: 5) { totalCount } }"


@pytest_asyncio.fixture(scope="module")
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    w = await build_world("sqlite", tmp_path_factory.mktemp("gw"), request)
    try:
        yield w
    finally:
        await w.dispose()


def app_for(world: World, **settings: Any) -> Any:
    return create_app(
        settings_for(world.url, **settings), extra_plugins=[EXAMPLE], engine=world.engine
    )


async def post(
    app: Any, body: Any = None, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers or {}
    ) as c:
        if body is not None:
            return await c.post("/graphql", json=body)
        return await c.post("/graphql", **kw)


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# --------------------------------------------------------------- authentication


def _claims(**kw: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    c = {
        "sub": "x",
        "roles": ["admin"],
        "region": "4108",
        "aud": "minzheng",
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(hours=1)).timestamp()),
    }
    c.update(kw)
    return c


def _attacks() -> list[tuple[str, str, str]]:
    now = dt.datetime.now(dt.UTC)
    good = jwt.encode(_claims(), SECRET, "HS256")
    head, _body, sig = good.split(".")
    return [
        (
            "expired",
            jwt.encode(
                _claims(exp=int((now - dt.timedelta(hours=1)).timestamp())), SECRET, "HS256"
            ),
            "TOKEN_EXPIRED",
        ),
        (
            "not-yet-valid",
            jwt.encode(
                _claims(nbf=int((now + dt.timedelta(hours=1)).timestamp())), SECRET, "HS256"
            ),
            "TOKEN_NOT_YET_VALID",
        ),
        (
            "wrong-audience",
            jwt.encode(_claims(aud="other-system"), SECRET, "HS256"),
            "TOKEN_WRONG_AUDIENCE",
        ),
        (
            "alg-none",
            f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims())}.",
            "TOKEN_ALGORITHM_REFUSED",
        ),
        ("wrong-alg", jwt.encode(_claims(), SECRET * 2, "HS512"), "TOKEN_ALGORITHM_REFUSED"),
        ("tampered", f"{head}.{b64(_claims(region='41'))}.{sig}", "TOKEN_BAD_SIGNATURE"),
        ("other-key", jwt.encode(_claims(), "k" * 48, "HS256"), "TOKEN_BAD_SIGNATURE"),
        ("garbage", "abc.def", "TOKEN_MALFORMED"),
    ]


@pytest.mark.parametrize(("name", "tok", "code"), _attacks(), ids=[a[0] for a in _attacks()])
async def test_bad_tokens_get_401_with_their_code(
    world: World, name: str, tok: str, code: str
) -> None:
    r = await world.gql({"authorization": f"Bearer {tok}"}, Q)
    assert r.status_code == 401, (name, r.text)
    body = r.json()
    assert body["errors"][0]["extensions"]["code"] == code
    assert "data" not in body
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "UNAUTHENTICATED"),
        ({"authorization": "Basic YTpi"}, "BAD_AUTHORIZATION_HEADER"),
        ({"authorization": "Bearer "}, "BAD_AUTHORIZATION_HEADER"),
        ({"x-api-key": "mzk_not_a_key"}, "API_KEY_UNKNOWN"),
    ],
)
async def test_missing_or_malformed_credentials(
    world: World, headers: dict[str, str], code: str
) -> None:
    r = await world.gql(headers, Q)
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == code
    r = await post(
        world.app,
        headers=headers,
        content=b"{broken",
    )
    assert r.status_code == 401, "credentials are checked before the body is looked at"


async def test_a_token_with_no_known_role_is_403(world: World) -> None:
    r = await world.gql(bearer("superuser", COUNTY), Q)
    assert r.status_code == 403
    assert r.json()["errors"][0]["extensions"]["code"] == "TOKEN_NO_KNOWN_ROLE"


async def test_health_endpoints_need_no_credentials(world: World) -> None:
    async with world.client() as c:
        assert (await c.get("/healthz")).status_code == 200


# --------------------------------------------------------------------- API keys


async def test_api_key_lifecycle_over_http(world: World) -> None:
    rm = RoleMap.build()
    async with world.app.state.minzheng.sessions() as s:
        s.info["principal"] = SYSTEM
        async with s.begin():
            _row, key = await create_api_key(
                s, name="dept-sync", role="integration", region=COUNTY, role_map=rm
            )
            _row, writer = await create_api_key(
                s,
                name="dept-write",
                role="integration",
                region=TOWNSHIP,
                role_map=rm,
                grants=["registry:write"],
            )
    q = "{ persons(first: 100) { edges { node { pk idNumber } } } }"
    for headers in ({"x-api-key": key}, {"authorization": f"Bearer {key}"}):
        data = await world.data(headers, q)
        pks = {e["node"]["pk"] for e in data["persons"]["edges"]}
        assert pks == world.persons_in(COUNTY)
        assert all("*" in e["node"]["idNumber"] for e in data["persons"]["edges"])
    assert await world.count("api_key", "name = 'dept-sync' AND last_used_at IS NOT NULL") == 1
    assert await world.count("api_key", f"key_hash = '{key}'") == 0, "only the hash is stored"

    # the role alone may not write; the granted key may, inside its region only
    gid = world.persons[min(world.persons_in(TOWNSHIP))][1]
    note = """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) {
      errors { code } } }"""
    before = await world.count("example_note")
    r = (await world.gql({"x-api-key": key}, note, {"i": {"personId": gid, "text": "k"}})).json()
    assert r["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    r = await world.data({"x-api-key": writer}, note, {"i": {"personId": gid, "text": "k"}})
    assert r["addExampleNote"]["errors"] == []
    assert await world.count("example_note") == before + 1
    assert await world.count("audit_log", "principal = 'apikey:dept-write'") >= 1

    from minzheng.core.auth import revoke_api_key

    async with world.app.state.minzheng.sessions() as s:
        s.info["principal"] = SYSTEM
        async with s.begin():
            await revoke_api_key(s, "dept-sync")
    r = await world.gql({"x-api-key": key}, q)
    assert r.status_code == 401
    assert r.json()["errors"][0]["extensions"]["code"] == "API_KEY_REVOKED"


# -------------------------------------------------------------- request limits


@pytest.mark.parametrize(
    ("kw", "status", "code"),
    [
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "BAD_JSON",
        ),
        (
            {"content": b"query { x }", "headers": {"content-type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "BAD_JSON"),
        ({"json": [{"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
        ({"json": "hello"}, 400, "BAD_REQUEST"),
        ({"json": {"query": 5}}, 400, "BAD_REQUEST"),
        ({"json": {"query": "   "}}, 400, "BAD_REQUEST"),
        ({"json": {"variables": {}}}, 400, "BAD_REQUEST"),
        ({"json": {"query": "{ __typename }", "variables": [1]}}, 400, "BAD_REQUEST"),
        ({"json": {"query": "{ __typename }", "operationName": 3}}, 400, "BAD_REQUEST"),
    ],
    ids=[
        "malformed",
        "text-plain",
        "empty",
        "batch",
        "string",
        "query-int",
        "blank",
        "no-query",
        "variables-list",
        "name-int",
    ],
)
async def test_bad_bodies_get_400(world: World, kw: dict[str, Any], status: int, code: str) -> None:
    before = await world.snapshot()
    async with world.client(bearer("admin", COUNTY)) as c:
        r = await c.post("/graphql", **kw)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["extensions"]["code"] == code
    assert r.json()["errors"][0]["message"]
    assert await world.snapshot() == before


async def test_body_size_limit(world: World) -> None:
    app = app_for(world, max_body_bytes=2048)
    h = bearer("admin", COUNTY)
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 5000}}
    r = await post(app, big, h)
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}}'

    r = await post(app, headers={**h, "content-type": "application/json"}, content=chunks())
    assert r.status_code == 413
    ok = await post(app, {"query": "{ __typename }"}, h)
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}


# --------------------------------------------------------------- query limits


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "{ persons(first: 100) { edges { node { household { members { person { household {"
            " members { person { household { members { person { name } } } } } } } } } } } } }",
            "QUERY_TOO_DEEP",
        ),
        (
            "{ " + " ".join(f"a{i}: persons(first: 1) {{ totalCount }}" for i in range(31)) + " }",
            "QUERY_TOO_MANY_ALIASES",
        ),
        (
            "{ persons(first: 100) { edges { node { household { members { person {"
            " exampleNotes { text } enrolments { programme } } } } } } } }",
            "QUERY_TOO_COSTLY",
        ),
        (
            "{ persons(first: 1) { edges { node { " + "name " * 4000 + "} } } }",
            "QUERY_TOO_MANY_TOKENS",
        ),
    ],
    ids=["depth", "aliases", "cost", "tokens"],
)
async def test_query_limits_refuse_before_any_resolver(world: World, query: str, code: str) -> None:
    app = app_for(world, max_query_cost=5000)
    h = bearer("caseworker", COUNTY)
    before = await world.count("audit_log")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=h
    ) as c:
        r = await c.post("/graphql", json={"query": query})
    body = r.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert "limit" in body["errors"][0]["extensions"] or code == "QUERY_TOO_MANY_TOKENS"
    assert await world.count("audit_log") == before, "no resolver ran (no pii read audited)"


async def test_page_size_is_capped(world: World) -> None:
    body = await world.gql(bearer("admin", COUNTY), "{ persons(first: 101) { totalCount } }")
    assert body.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


async def test_introspection_switch(world: World) -> None:
    q = "{ __schema { queryType { name } } }"
    h = bearer("viewer", COUNTY)
    on = await post(app_for(world), {"query": q}, h)
    assert on.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    off = await post(app_for(world, introspection=False), {"query": q}, h)
    assert off.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    typename = await post(app_for(world, introspection=False), {"query": "{ __typename }"}, h)
    assert typename.json() == {"data": {"__typename": "Query"}}


# ---------------------------------------------------------- persisted queries


async def test_persisted_queries_required(world: World) -> None:
    doc = "query Count { persons(first: 5) { totalCount } }"
    async with world.app.state.minzheng.sessions() as s, s.begin():
        digest, new = await register(s, doc, "count.graphql")
    assert new
    assert digest == document_hash(doc)
    app = app_for(world, persisted_queries="required")
    h = bearer("caseworker", COUNTY)
    ok = await post(app, {"query": doc}, h)
    assert ok.json()["data"]["persons"]["totalCount"] == len(world.persons_in(COUNTY))
    by_hash = await post(
        app, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}, h
    )
    assert by_hash.json() == ok.json()
    other = await post(app, {"query": "{ persons(first: 5) { totalCount } }"}, h)
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    unknown = await post(
        app, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}}, h
    )
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    mismatch = await post(
        app,
        {"query": doc, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
        h,
    )
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    allowed = app_for(world, persisted_queries="allowed")
    free = await post(allowed, {"query": "{ persons(first: 5) { totalCount } }"}, h)
    assert "errors" not in free.json()
    hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    assert (await post(allowed, hashed, h)).json() == ok.json()
    # off: any query runs; hashes are not looked up
    off = await post(app_for(world), hashed, h)
    assert off.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


# ------------------------------------------------------------------------ demo


async def test_demo_server_is_open_and_says_so(world: World) -> None:
    settings = settings_for(world.url, demo=True, jwt_secret=None)
    app = create_app(settings, extra_plugins=[EXAMPLE], engine=world.engine)
    r = await post(app, {"query": "{ persons(first: 1) { totalCount } }"})
    assert r.status_code == 200 and r.json()["data"]["persons"]["totalCount"] == len(world.persons)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "X-Minzheng-Demo" in page.text and "DEMO SERVER" in page.text
    assert "Authorization" in page.text and "Bearer ey" in page.text
    # credentials sent to the demo are still checked
    bad = await post(app, {"query": "{ __typename }"}, {"authorization": "Bearer nope.nope"})
    assert bad.status_code == 401
    from minzheng.gateway.auth import prepare_demo

    with pytest.raises(RuntimeError, match="loopback"):
        prepare_demo(settings, "0.0.0.0")


async def test_without_demo_there_is_no_open_access(world: World) -> None:
    r = await post(app_for(world), {"query": "{ __typename }"})
    assert r.status_code == 401
