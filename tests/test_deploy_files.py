"""The deployment files agree with each other and with the code they deploy.

There is no container engine in the test environment, so these tests read
docker-compose.yml, the Dockerfile and .dockerignore as data, and exercise the shell
scripts as far as they run without a database server.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from minzheng.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CI_RUN = ROOT / ".ci" / "run"
PGTEST = ROOT / "scripts" / "pgtest.sh"


# --- helpers -------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = load_compose()["services"]
    assert name in services, f"docker-compose.yml has no {name!r} service"
    return services[name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as KEY=VALUE lines."""
    env = svc.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def healthcheck_argv(test: str | list[str]) -> list[str]:
    """The command of a compose healthcheck ``test``, without CMD / CMD-SHELL."""
    if isinstance(test, str):
        return shlex.split(test)
    kind, *argv = test
    assert kind in {"CMD", "CMD-SHELL"}, f"unexpected healthcheck form {kind!r}"
    if kind == "CMD-SHELL":
        return shlex.split(" ".join(argv))
    return argv


def python_snippet(argv: list[str]) -> str:
    """The code of a ``python -c CODE`` command line; it must compile."""
    assert argv[0] in {"python", "python3"}, argv
    assert argv[1] == "-c", argv
    code = argv[2]
    compile(code, "<healthcheck>", "exec")
    return code


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends with a continuation line"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value)
    return value


def run_pgtest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PGTEST_")}
    return subprocess.run(
        ["bash", str(PGTEST), *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- docker-compose.yml --------------------------------------------------------------


def test_compose_defines_db_and_gateway_and_a_named_volume() -> None:
    compose = load_compose()
    assert set(compose["services"]) == {"db", "gateway"}
    db = service("db")
    assert db["image"] == "postgres:16"
    volume, _, target = db["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"], "the database volume must be a declared named volume"


def test_db_credentials() -> None:
    env = environment(service("db"))
    assert env["POSTGRES_USER"] == "minzheng"
    assert env["POSTGRES_PASSWORD"] == "minzheng"
    assert env["POSTGRES_DB"] == "minzheng"


def test_db_healthcheck_uses_pg_isready() -> None:
    check = service("db")["healthcheck"]
    argv = healthcheck_argv(check["test"])
    assert argv[0] == "pg_isready"
    assert "minzheng" in argv
    assert int(check["retries"]) >= 1


def test_gateway_is_built_here_and_waits_for_a_healthy_db() -> None:
    gateway = service("gateway")
    build = gateway["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert (ROOT / context / "Dockerfile").is_file()
    assert gateway["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_gateway_database_url_points_at_db_with_asyncpg() -> None:
    env = environment(service("gateway"))
    db_env = environment(service("db"))
    url = make_url(env["MINZHENG_DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "db"
    assert url.port == 5432
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env["POSTGRES_DB"]


def test_gateway_settings_are_ones_the_gateway_reads() -> None:
    env = environment(service("gateway"))
    fields = Settings.model_fields
    assert "database_url" in fields
    assert "plugins" in fields
    assert env["MINZHENG_PLUGINS"] == "all"
    assert Settings(plugins=env["MINZHENG_PLUGINS"]).plugins == "all"


def test_gateway_jwt_secret_is_required_not_hard_coded() -> None:
    secret = environment(service("gateway"))["MINZHENG_JWT_SECRET"]
    assert secret.startswith("${MINZHENG_JWT_SECRET:?"), secret
    assert secret.endswith("}")


def test_gateway_publishes_port_8000() -> None:
    assert "8000:8000" in [str(port) for port in service("gateway")["ports"]]


def test_gateway_healthcheck_probes_healthz() -> None:
    check = service("gateway")["healthcheck"]
    code = python_snippet(healthcheck_argv(check["test"]))
    assert "urllib.request" in code
    assert "http://127.0.0.1:8000/healthz" in code


# --- Dockerfile ----------------------------------------------------------------------


def test_dockerfile_runs_on_python_311_slim() -> None:
    keyword, args = final_stage()[0]
    assert keyword == "FROM"
    assert args.split()[0] == "python:3.11-slim"


def test_dockerfile_installs_the_package_with_pip() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any("pip install" in args for args in runs)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert "minzheng" in scripts, "the image runs the `minzheng` console script"


def test_dockerfile_serves_as_a_non_root_user() -> None:
    stage = final_stage()
    keywords = [keyword for keyword, _ in stage]
    assert "USER" in keywords
    user_at = max(i for i, keyword in enumerate(keywords) if keyword == "USER")
    user = stage[user_at][1].split(":")[0]
    assert user not in {"root", "0"}
    assert user_at < keywords.index("CMD")


def test_dockerfile_exposes_8000() -> None:
    exposed = [args.split() for keyword, args in final_stage() if keyword == "EXPOSE"]
    assert ["8000"] in exposed


def test_dockerfile_healthcheck_uses_urllib_on_healthz() -> None:
    checks = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD ")
    assert "--interval=" in options
    code = python_snippet(exec_form(command))
    assert "urllib.request" in code
    assert "http://127.0.0.1:8000/healthz" in code


def test_dockerfile_migrates_then_serves() -> None:
    cmds = [args for keyword, args in final_stage() if keyword == "CMD"]
    assert len(cmds) == 1
    argv = exec_form(cmds[0])
    assert argv[:2] == ["sh", "-c"]
    steps = [step.strip() for step in argv[2].split("&&")]
    assert steps[0] == "minzheng migrate"
    serve = shlex.split(steps[1])
    assert serve[:3] == ["exec", "minzheng", "serve"]
    assert serve[serve.index("--host") + 1] == "0.0.0.0"
    assert serve[serve.index("--port") + 1] == "8000"


def test_dockerignore_keeps_the_build_inputs_and_drops_local_state() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".git", ".venv", ".pgtest"):
        assert needed in patterns
    for kept in ("pyproject.toml", "README.md", "minzheng", "minzheng/core/db.py"):
        assert not any(fnmatch.fnmatch(kept, p) for p in patterns), kept


# --- .ci/run ---------------------------------------------------------------------------


def test_ci_run_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(CI_RUN)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_run_tests_against_postgres_and_cleans_up() -> None:
    text = CI_RUN.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "make test" in text
    assert "scripts/pgtest.sh start" in text
    assert "scripts/pgtest.sh stop" in text
    assert "trap cleanup EXIT" in text
    assert "export MINZHENG_REQUIRE_POSTGRES=1" in text
    assert "export MINZHENG_TEST_POSTGRES_URL" in text


# --- scripts/pgtest.sh -----------------------------------------------------------------


def test_pgtest_is_executable_and_valid_bash() -> None:
    assert os.access(PGTEST, os.X_OK)
    result = subprocess.run(["bash", "-n", str(PGTEST)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pgtest_url_is_an_asyncpg_url_on_loopback(tmp_path: Path) -> None:
    result = run_pgtest("url", str(tmp_path / "pg"), env={"PGTEST_PORT": "55432"})
    assert result.returncode == 0, result.stderr
    url = make_url(result.stdout.strip())
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.username, url.database) == (
        "127.0.0.1",
        55432,
        "postgres",
        "minzheng_test",
    )
    assert url.password is None


def test_pgtest_url_defaults_to_port_54329(tmp_path: Path) -> None:
    result = run_pgtest("url", str(tmp_path / "pg"))
    assert result.stdout == "postgresql+asyncpg://postgres@127.0.0.1:54329/minzheng_test\n"


def test_pgtest_url_prefers_the_port_the_cluster_was_made_with(tmp_path: Path) -> None:
    (tmp_path / "port").write_text("55111\n")
    result = run_pgtest("url", str(tmp_path), env={"PGTEST_PORT": "55432"})
    assert make_url(result.stdout.strip()).port == 55111


def test_pgtest_rejects_unknown_commands() -> None:
    for args in [("launch",), (), ("url", "a", "b")]:
        result = run_pgtest(*args)
        assert result.returncode == 2, args
        assert result.stdout == ""
        assert "usage: scripts/pgtest.sh" in result.stderr


def test_pgtest_stop_without_a_cluster_is_a_no_op(tmp_path: Path) -> None:
    missing = tmp_path / "never-started"
    result = run_pgtest("stop", str(missing))
    assert result.returncode == 0, result.stderr
    assert not missing.exists()


def test_pgtest_stop_refuses_to_delete_a_foreign_directory(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("not a database")
    result = run_pgtest("stop", str(tmp_path))
    assert result.returncode == 1
    assert "does not look like a pgtest directory" in result.stderr
    assert keep.read_text() == "not a database"


@pytest.mark.parametrize("script", [CI_RUN, PGTEST])
def test_scripts_have_a_bash_shebang(script: Path) -> None:
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
