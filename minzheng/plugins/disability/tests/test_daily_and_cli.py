"""The daily deadline sweep (``minzheng daily``) and the ``minzheng disability`` commands."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from conftest import minzheng_cli
from minzheng.core.daily import run_daily
from minzheng.core.db import create_engine, session_factory
from minzheng.core.plugins import load
from minzheng.plugins.disability import services
from minzheng.plugins.disability.models import DisabilityGrant, DisabilityVerification
from minzheng.plugins.disability.rules import GrantStatus, Subsidy

from .conftest import Registry
from .helpers import D, grant_through, standards


async def _setup(url: str) -> tuple[Registry, list[int], list[str]]:
    engine = create_engine(url)
    registry = Registry(session_factory(engine), load(["disability"]))
    async with registry.tx(today=D(2025, 3, 1)) as s:
        await standards(s)
        people = [await registry.person(s, name=f"核验{i}") for i in range(3)]
        for p in people:
            await grant_through(s, p, Subsidy.CARE, submitted=D(2025, 1, 3), decided=D(2025, 1, 10))
        await services.open_cycle(
            s, region_code="410823", name="2025", opens_on=D(2025, 2, 1), deadline=D(2025, 4, 30)
        )
        ids = [p.id for p in people]
        numbers = [p.id_number for p in people]
    await engine.dispose()
    return registry, ids, numbers


async def _statuses(url: str) -> list[GrantStatus]:
    engine = create_engine(url)
    async with session_factory(engine)() as s:
        rows = (await s.scalars(select(DisabilityGrant.status).order_by(DisabilityGrant.id))).all()
    await engine.dispose()
    return list(rows)


async def test_daily_sweep_is_idempotent_and_skips_replaced_cycles(sqlite_url) -> None:
    await _setup(sqlite_url)
    plugins = load(["disability"])
    before = await run_daily(sqlite_url, plugins, D(2025, 4, 30))
    assert before["disability"] == {"cycles_swept": 0, "suspended": 0}
    report = await run_daily(sqlite_url, plugins, D(2025, 5, 1))
    assert report["disability"] == {"cycles_swept": 1, "suspended": 3}
    assert await _statuses(sqlite_url) == [GrantStatus.SUSPENDED] * 3
    again = await run_daily(sqlite_url, plugins, D(2025, 5, 2))
    assert again["disability"] == {"cycles_swept": 1, "suspended": 0}
    # once next year's cycle has opened, last year's is no longer swept
    engine = create_engine(sqlite_url)
    async with Registry(session_factory(engine), plugins).tx(today=D(2026, 1, 1)) as s:
        await services.open_cycle(
            s, region_code="410823", name="2026", opens_on=D(2026, 1, 1), deadline=D(2026, 3, 31)
        )
    await engine.dispose()
    later = await run_daily(sqlite_url, plugins, D(2026, 1, 5))
    assert later["disability"] == {"cycles_swept": 0, "suspended": 0}


def _cli(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return minzheng_cli(
        "disability", *args, url=url, cwd=cwd, env={"MINZHENG_PLUGINS": "disability"}
    )


async def _verifications(url: str) -> int:
    engine = create_engine(url)
    async with session_factory(engine)() as s:
        n = await s.scalar(select(func.count()).select_from(DisabilityVerification))
    await engine.dispose()
    return int(n or 0)


async def test_cli_import_reports_lines_and_honours_all_or_nothing(sqlite_url, tmp_path) -> None:
    _, _, numbers = await _setup(sqlite_url)
    stamp = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    path = tmp_path / "比对结果.csv"
    path.write_text(
        "身份证号,验证方式,验证结果,验证时间\n"
        f"{numbers[0]},人脸识别,通过,{stamp}\n"
        f"{numbers[1]},刷脸,通过,{stamp}\n"
        f"{numbers[2]},数据比对,通过,{stamp}\n",
        encoding="utf-8",
    )
    out = _cli(sqlite_url, tmp_path, "import-verifications", str(path), "--all-or-nothing")
    assert out.returncode == 2, out.stderr
    assert "line 3: unknown verification method '刷脸'" in out.stderr
    assert "nothing written" in out.stdout
    assert await _verifications(sqlite_url) == 0
    out = _cli(sqlite_url, tmp_path, "import-verifications", str(path))
    assert out.returncode == 1, out.stderr
    assert "3 rows: 2 recorded, 0 already recorded, 1 refused" in out.stdout
    assert await _verifications(sqlite_url) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    out = _cli(sqlite_url, tmp_path, "import-verifications", str(bad))
    assert out.returncode == 2 and "missing headings" in out.stderr


async def test_cli_suspend_overdue(sqlite_url, tmp_path) -> None:
    await _setup(sqlite_url)
    out = _cli(sqlite_url, tmp_path, "suspend-overdue", "--date", "2025-05-01")
    assert out.returncode == 0, out.stderr
    assert "1 cycles swept, 3 grants suspended" in out.stdout
    assert await _statuses(sqlite_url) == [GrantStatus.SUSPENDED] * 3
