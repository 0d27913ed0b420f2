"""The gateway over HTTP: transport, GraphiQL, metrics, error masking, logs,
subscriptions; and a real uvicorn process."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from factories import VILLAGES, member
from starlette.testclient import TestClient

from conftest import EXAMPLE, SECRET, minzheng_cli, settings_for, token
from minzheng.gateway.app import create_app

ROOT = Path(__file__).parents[2]


async def test_get_query_and_graphiql(api):
    resp = await api.http.get("/graphql", params={"query": '{ region(code: "410823") { name } }'})
    assert resp.json() == {"data": {"region": {"name": "武陟县"}}}
    page = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_graphiql_page_opens_without_credentials_and_nothing_else_does(make_api):
    """A browser opening /graphql cannot send a bearer token: the GraphiQL page
    (no data; its requests carry the headers set in it) needs none. Anything
    that executes still does."""
    api = make_api()
    bare = {"authorization": ""}
    html = {**bare, "accept": "text/html"}
    page = await api.http.get("/graphql", headers=html)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    query = {"query": '{ region(code: "410823") { name } }'}
    for resp in (
        await api.http.get("/graphql", params=query, headers=html),
        await api.http.get("/graphql", params=query, headers=bare),
        await api.http.post("/graphql", json=query, headers=html),
    ):
        assert resp.status_code == 401, resp.text
        assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    closed = make_api(graphiql=False)
    assert (await closed.http.get("/graphql", headers=html)).status_code == 401


async def test_start_up_exempts_the_application_from_the_collector(api):
    """A server process freezes what start-up built (schema, mappers, plugins), so
    full collections stop walking it on every few requests; it still serves."""
    import gc

    app = api.app
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 50_000
            resp = await api.http.get(
                "/graphql", params={"query": '{ region(code: "410823") { name } }'}
            )
            assert resp.json() == {"data": {"region": {"name": "武陟县"}}}
    finally:
        gc.unfreeze()


async def test_unexpected_error_is_masked_with_request_id(api, caplog):
    caplog.set_level(logging.ERROR, logger="minzheng.graphql")
    resp = await api.http.post(
        "/graphql", json={"query": "{ exampleFailure }"}, headers={"x-request-id": "req-123"}
    )
    body = resp.json()
    assert resp.headers["x-request-id"] == "req-123"
    err = body["errors"][0]
    assert err["message"] == "Unexpected error (request id req-123)"
    assert err["extensions"] == {"code": "INTERNAL", "requestId": "req-123"}
    assert "internal detail" not in resp.text
    assert any("internal detail" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


async def test_metrics_count_requests_and_error_codes(api):
    await api.gql("{ regions { code } }")
    await api.http.post("/graphql", json={"query": "{ exampleFailure }"})
    text = (await api.http.get("/metrics")).text
    assert 'minzheng_http_requests_total{method="POST",path="/graphql",status="200"}' in text
    assert 'minzheng_graphql_errors_total{code="INTERNAL"} 1.0' in text
    assert "minzheng_http_request_duration_seconds_bucket" in text


async def test_no_credentials_is_401_with_code(api):
    resp = await api.http.post(
        "/graphql", json={"query": "{ regions { code } }"}, headers={"authorization": ""}
    )
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_subscription_over_websocket_sees_committed_changes(sqlite_url):
    app = create_app(settings_for(sqlite_url), extra_plugins=[EXAMPLE])
    headers = {"authorization": f"Bearer {token('admin', '410823')}"}
    with (
        TestClient(app, headers=headers) as client,
        client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
        ) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        _subscribe_and_see_a_change(client, ws, "订阅")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "MINZHENG_DATABASE_URL": sqlite_url,
        "MINZHENG_JWT_SECRET": SECRET,
        "MINZHENG_PLUGINS": "all",
        "PYTHONPATH": str(ROOT / "tests"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "minzheng.gateway.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"server did not start: {proc.stdout.read() if proc.stdout else ''}")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_real_uvicorn_serves_queries_and_mutations(server):
    headers = {"authorization": f"Bearer {token('caseworker', '410823')}"}
    with httpx.Client(base_url=server, headers=headers, timeout=10) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready", ready
        reg = """mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) {
            household { number members { person { name idNumber } } } errors { code } } }"""
        out = client.post(
            "/graphql",
            json={
                "query": reg,
                "variables": {
                    "i": {"regionCode": VILLAGES["wuzhi_b"], "members": [member("进程")]}
                },
            },
        ).json()
        household = out["data"]["registerHousehold"]["household"]
        assert household["members"][0]["person"]["name"] == "进程"
        stats = client.post(
            "/graphql", json={"query": '{ regionStatistics(code: "410823") { population } }'}
        ).json()
        assert stats["data"]["regionStatistics"]["population"] == 1
        assert (
            client.post(
                "/graphql", content=b"{", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )


def test_cli_refuses_unknown_plugin_with_one_line(tmp_path):
    env = {
        **os.environ,
        "MINZHENG_PLUGINS": "nonesuch",
        "MINZHENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    out = minzheng_cli("serve", env=env, cwd=tmp_path, timeout=60)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("minzheng: plugin 'nonesuch': not installed")


def test_cli_help_for_every_command():
    for cmd in ("serve", "migrate", "seed", "plugins", "schema", "daily"):
        out = minzheng_cli(cmd, "--help", timeout=60)
        assert out.returncode == 0 and "Usage:" in out.stdout, cmd


def test_cli_migrate_check_and_plugins(tmp_path):
    env = {**os.environ, "MINZHENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}

    def run(*a):
        return minzheng_cli(*a, env=env, cwd=tmp_path)

    assert run("migrate", "--check").returncode == 1
    assert run("migrate").returncode == 0
    assert run("migrate").returncode == 0
    checked = run("migrate", "--check")
    assert checked.returncode == 0, checked.stderr
    listing = run("plugins")
    assert listing.returncode == 0


def test_json_logs_carry_request_id(api, capsys):
    from minzheng.gateway.logs import JsonFormatter

    record = logging.makeLogRecord(
        {"msg": "hello %s", "args": ("x",), "levelname": "INFO", "name": "t", "request_id": "r1"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x" and line["request_id"] == "r1"


def test_cli_seed_is_deterministic_and_respects_if_empty(tmp_path):
    import sqlite3

    def seeded(name: str) -> list:
        path = tmp_path / name
        env = {**os.environ, "MINZHENG_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}

        def cli(*a: str) -> subprocess.CompletedProcess:
            return minzheng_cli(*a, env=env, cwd=tmp_path, timeout=300)

        assert cli("migrate").returncode == 0
        first = cli("seed", "--demo", "--households", "60", "--seed", "7")
        assert first.returncode == 0 and "seeded 60 households" in first.stdout, first.stderr
        again = cli("seed", "--demo", "--households", "60", "--seed", "7", "--if-empty")
        assert "nothing seeded" in again.stdout
        with sqlite3.connect(path) as conn:
            return conn.execute(
                "SELECT id_number, name, region_code FROM person ORDER BY id"
            ).fetchall()

    a, b = seeded("a.db"), seeded("b.db")
    assert len(a) > 60 and a == b


def _subscribe_and_see_a_change(client, ws, name):
    """Subscribe to registry changes, register a household over HTTP, and see it."""
    ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": "subscription { registryChanges { operation regionCode householdId } }"
            },
        }
    )
    time.sleep(0.2)
    reg = """mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) {
        household { id } errors { code } } }"""
    variables = {"i": {"regionCode": VILLAGES["wuzhi_a"], "members": [member(name)]}}
    out = client.post("/graphql", json={"query": reg, "variables": variables}).json()
    hid = out["data"]["registerHousehold"]["household"]["id"]
    msg = ws.receive_json()
    assert msg["type"] == "next"
    assert msg["payload"]["data"]["registryChanges"] == {
        "operation": "registerHousehold",
        "regionCode": VILLAGES["wuzhi_a"],
        "householdId": hid,
    }
    ws.send_json({"id": "1", "type": "complete"})


@pytest.mark.parametrize(
    "params",
    [
        lambda t: {"authorization": f"Bearer {t}"},
        lambda t: {"Authorization": f"Bearer {t}"},
        lambda t: {"headers": {"Authorization": f"Bearer {t}"}},
    ],
    ids=["authorization", "Authorization", "headers"],
)
def test_websocket_credentials_in_connection_init(sqlite_url, params):
    """Browsers cannot set headers on a WebSocket: the credentials may come in
    the connection_init payload instead, with the same checks as a header."""
    app = create_app(settings_for(sqlite_url), extra_plugins=[EXAMPLE])
    headers = {"authorization": f"Bearer {token('admin', '410823')}"}
    with (
        TestClient(app, headers=headers) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": params(token("admin", "410823"))})
        assert ws.receive_json()["type"] == "connection_ack"
        _subscribe_and_see_a_change(client, ws, "浏览器")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"authorization": "Bearer not-a-jwt"},
        {"authorization": "Basic abc"},
        {"x-api-key": "mzk_unknown"},
    ],
    ids=["none", "bad-token", "bad-scheme", "unknown-key"],
)
def test_websocket_without_valid_credentials_is_refused(sqlite_url, payload):
    from starlette.websockets import WebSocketDisconnect

    app = create_app(settings_for(sqlite_url), extra_plugins=[EXAMPLE])
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    # nor can a subscription start before connection_init
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { registryChanges { operation } }"},
            }
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
