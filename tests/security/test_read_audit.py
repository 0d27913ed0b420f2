"""Unmasked reads are audited before the response, also under concurrency: the
rows of concurrent requests share a transaction (group commit), and every
request's entries are there when its answer arrives."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from factories import member, register
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from minzheng.core.models import AuditEntry
from minzheng.schema.pii import GroupCommit

LOOKUP = """query($n: String!) { personByIdNumber(idNumber: $n) { name idNumber phone } }"""


async def _reads(api: Any) -> dict[str, int]:
    async with api.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AuditEntry.request_id, func.count())
                .where(AuditEntry.action == "pii.read")
                .group_by(AuditEntry.request_id)
            )
        ).all()
    return {r: n for r, n in rows}


async def test_concurrent_reads_are_each_audited_before_they_are_answered(api: Any) -> None:
    numbers = []
    for i in range(4):
        hh = await register(api, members=[member(f"张{i}"), member(f"李{i}", "SPOUSE", male=False)])
        numbers += [m["person"]["idNumber"] for m in hh["members"]]
    caseworker = api.as_("caseworker")
    async with api.engine.begin() as conn:
        await conn.execute(delete(AuditEntry).where(AuditEntry.action == "pii.read"))

    async def read(n: str) -> str:
        resp = await caseworker.http.post("/graphql", json={"query": LOOKUP, "variables": {"n": n}})
        body = resp.json()
        assert not body.get("errors"), body
        assert body["data"]["personByIdNumber"]["idNumber"] == n  # unmasked
        rid = resp.headers["x-request-id"]
        # the entry is committed by the time the answer arrives
        assert (await _reads(api)).get(rid) == 1
        return rid

    rids = await asyncio.gather(*(read(n) for n in numbers * 3))
    assert len(set(rids)) == len(numbers) * 3
    assert await _reads(api) == {rid: 1 for rid in rids}


async def test_a_failed_audit_write_fails_every_request_in_its_batch(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hh = await register(api, members=[member("王五")])
    n = hh["members"][0]["person"]["idNumber"]
    caseworker = api.as_("caseworker")

    async def broken(self: GroupCommit, batch: list[Any]) -> None:
        for _, done in batch:
            done.set_exception(RuntimeError("audit store unavailable"))

    monkeypatch.setattr(GroupCommit, "_flush", broken)
    bodies = await asyncio.gather(
        *(caseworker.gql(LOOKUP, {"n": n}, expect_errors=True) for _ in range(5))
    )
    for body in bodies:  # no unaudited personal data leaves the server
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
        assert "audit store" not in body["errors"][0]["message"]


async def test_an_audit_batch_is_written_whole_or_not_at_all(api: Any) -> None:
    """On PostgreSQL the rows go without a transaction block (asyncpg's
    executemany is atomic by itself); on both, a batch with one bad row leaves
    none of its rows behind."""
    good = {
        "at": dt.datetime.now(dt.UTC),
        "principal": "caseworker@410823",
        "operation": "Lookup",
        "action": "pii.read",
        "entity_type": "Person",
        "entity_id": "1",
        "region_code": "410823101201",
        "before": None,
        "after": {"fields": ["Person.id_number"]},
        "request_id": "whole-or-nothing",
    }
    bad = dict(good, entity_id="2", principal=None)  # NOT NULL
    writer = GroupCommit(api.engine)
    with pytest.raises(IntegrityError, match=r"(?i)null"):
        await writer.write([good, bad])
    assert (await _reads(api)).get("whole-or-nothing") is None
    await writer.write([good, dict(good, entity_id="2")])
    assert (await _reads(api))["whole-or-nothing"] == 2


class _Engine:
    """A stand-in engine (and its connection) whose n-th insert waits for gate n."""

    def __init__(self, gates: list[asyncio.Event], written: list[Any]) -> None:
        self.gates, self.written = gates, written

    async def __aenter__(self) -> _Engine:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def begin(self) -> _Engine:
        return self

    async def execute(self, _stmt: Any, rows: list[Any]) -> None:
        await self.gates[len(self.written) and 1].wait()
        self.written.extend(rows)


async def test_a_cancelled_request_does_not_cancel_the_batch_it_was_writing() -> None:
    gates = [asyncio.Event(), asyncio.Event()]
    written: list[Any] = []
    writer = GroupCommit(_Engine(gates, written))
    first = asyncio.create_task(writer.write([{"r": 0}]))
    await asyncio.sleep(0)  # `first` holds the lock; its insert waits at gate 0
    holder = asyncio.create_task(writer.write([{"r": 1}]))
    other = asyncio.create_task(writer.write([{"r": 2}]))
    await asyncio.sleep(0)
    gates[0].set()
    await first
    for _ in range(5):  # `holder` takes the lock and writes rows 1 and 2 together
        await asyncio.sleep(0)
    assert written == [{"r": 0}] and not holder.done() and not other.done()
    holder.cancel()  # its client went away mid-write
    with pytest.raises(asyncio.CancelledError):
        await holder
    gates[1].set()
    await asyncio.wait_for(other, 1)  # answered: its rows were committed
    assert written == [{"r": 0}, {"r": 1}, {"r": 2}]
