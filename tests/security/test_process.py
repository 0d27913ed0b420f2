"""A real uvicorn process (token attacks, scope, limits, API keys made with the
CLI) and the security commands of the ``minzheng`` CLI."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import SECRET, minzheng_cli, token

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MINZHENG_DATABASE_URL": url,
        "MINZHENG_JWT_SECRET": SECRET,
        "MINZHENG_PLUGINS": "all",
        "PYTHONPATH": str(ROOT / "tests"),
        **extra,
    }


def cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return minzheng_cli(*args, env=_env(url, **env), timeout=60)


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "minzheng.gateway.cli", "serve", "--port", str(port)],
        env=_env(sqlite_url, MINZHENG_MAX_BODY_BYTES="4096", MINZHENG_INTROSPECTION="false"),
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
    yield base, sqlite_url
    proc.terminate()
    proc.wait(timeout=10)


def _b64(obj: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_real_server_refuses_bad_credentials_and_large_bodies(served: tuple[str, str]) -> None:
    base, _url = served
    q = {"query": "{ persons(first: 5) { totalCount } }"}
    with httpx.Client(base_url=base, timeout=10) as c:
        r = c.post("/graphql", json=q)
        assert r.status_code == 401
        assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        good = token("admin", "410823")
        _h, body, sig = good.split(".")
        unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{body}."
        r = c.post("/graphql", json=q, headers={"authorization": f"Bearer {unsigned}"})
        assert r.status_code == 401
        assert r.json()["errors"][0]["extensions"]["code"] == "TOKEN_ALGORITHM_REFUSED"
        raised = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        raised["region"] = "41"
        r = c.post(
            "/graphql", json=q, headers={"authorization": f"Bearer {_h}.{_b64(raised)}.{sig}"}
        )
        assert r.json()["errors"][0]["extensions"]["code"] == "TOKEN_BAD_SIGNATURE"

        h = {"authorization": f"Bearer {good}"}
        r = c.post("/graphql", json=q, headers=h)
        assert r.status_code == 200 and r.json()["data"]["persons"]["totalCount"] == 0
        r = c.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"p": "x" * 8000}}, headers=h
        )
        assert r.status_code == 413
        r = c.post("/graphql", content=b"{oops", headers={**h, "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "BAD_JSON"
        r = c.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=h)
        assert r.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"


def test_api_key_made_with_the_cli_works_on_the_real_server(served: tuple[str, str]) -> None:
    base, url = served
    made = cli(
        url, "apikey", "create", "--name", "feed", "--role", "integration", "--region", "410823"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("mzk_") and "shown once" in made.stderr
    q = {"query": "{ persons(first: 5) { totalCount } }"}
    with httpx.Client(base_url=base, timeout=10) as c:
        assert c.post("/graphql", json=q, headers={"x-api-key": key}).status_code == 200
        listed = cli(url, "apikey", "list")
        assert "feed" in listed.stdout and key not in listed.stdout
        assert "last used never" not in listed.stdout
        assert cli(url, "apikey", "revoke", "feed").returncode == 0
        r = c.post("/graphql", json=q, headers={"x-api-key": key})
        assert r.status_code == 401
        assert r.json()["errors"][0]["extensions"]["code"] == "API_KEY_REVOKED"


def test_cli_refusals(sqlite_url: str, tmp_path: Path) -> None:
    def fails(*args: str) -> str:
        out = cli(sqlite_url, *args)
        assert out.returncode != 0, out.stdout
        return out.stderr

    assert "unknown role 'root'" in fails(
        "apikey", "create", "--name", "x", "--role", "root", "--region", "410823"
    )
    assert "not a division code" in fails(
        "apikey", "create", "--name", "x", "--role", "viewer", "--region", "4108x"
    )
    assert "no division 410823999000" in fails(
        "apikey", "create", "--name", "x", "--role", "viewer", "--region", "410823999"
    )
    assert "unknown permission" in fails(
        "apikey",
        "create",
        "--name",
        "x",
        "--role",
        "viewer",
        "--region",
        "4108",
        "--grant",
        "everything",
    )
    assert "no API key named 'ghost'" in fails("apikey", "revoke", "ghost")
    assert "unknown role" in fails("token", "--role", "root", "--region", "410823")
    assert "positive number" in fails(
        "token", "--role", "viewer", "--region", "4108", "--ttl", "soon"
    )
    out = cli(sqlite_url, "token", "--role", "viewer", "--region", "4108", MINZHENG_JWT_SECRET="")
    assert out.returncode != 0 and "MINZHENG_JWT_SECRET" in out.stderr
    assert cli(sqlite_url, "apikey", "list").stdout.strip() == "no API keys"


def test_cli_token_is_accepted(sqlite_url: str) -> None:
    out = cli(sqlite_url, "token", "--role", "caseworker", "--region", "410823101", "--ttl", "5m")
    assert out.returncode == 0, out.stderr
    from minzheng.core.auth import TokenVerifier

    claims = TokenVerifier(algorithms=("HS256",), secret=SECRET, audience="minzheng").verify(
        out.stdout.strip()
    )
    assert claims.roles == ("caseworker",) and claims.region == "410823101"
    assert 250 < claims.claims["exp"] - claims.claims["iat"] <= 300


def test_cli_persisted_register(sqlite_url: str, tmp_path: Path) -> None:
    good = tmp_path / "q" / "count.graphql"
    good.parent.mkdir()
    good.write_text('query Count { regionStatistics(code: "410823") { population } }\n')
    out = cli(sqlite_url, "persisted", "register", str(good.parent))
    assert out.returncode == 0, out.stderr
    digest = out.stdout.split()[0]
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and "registered" in out.stdout
    again = cli(sqlite_url, "persisted", "register", str(good))
    assert "already registered" in again.stdout
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ nosuchfield }")
    out = cli(sqlite_url, "persisted", "register", str(bad))
    assert out.returncode != 0 and "nosuchfield" in out.stderr
    assert digest in cli(sqlite_url, "persisted", "list").stdout
