"""Candidate fixes, tried inside the benchmark without touching the code under test.

``python -m bench run --try NAME`` applies one or more of these to the bench
process and its uvicorn workers (``BENCH_TRY``): a patch applied before the
app is built, or DDL run on the working copy of the registry.  Comparing a run
with and without ``--try`` shows what a fix would gain before anyone makes it
in ``minzheng/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Experiment:
    description: str
    patch: Callable[[], None] | None = None
    ddl: tuple[str, ...] = field(default_factory=tuple)


def _parser_cache() -> None:
    """Parse and validate each distinct document once (LRU), not per request."""
    from strawberry.extensions import ParserCache, ValidationCache

    import minzheng.gateway.app as gateway

    original = gateway.schema_extensions
    if getattr(original, "bench_patched", False):
        return

    def schema_extensions(*args: Any, **kwargs: Any) -> list[Any]:
        extensions = original(*args, **kwargs)
        kinds = [e if isinstance(e, type) else type(e()) for e in extensions]
        if any(issubclass(k, ParserCache | ValidationCache) for k in kinds):
            return extensions  # the gateway caches already
        return [*extensions, ParserCache, ValidationCache]

    schema_extensions.bench_patched = True  # type: ignore[attr-defined]
    gateway.schema_extensions = schema_extensions


def _pii_audit_batched() -> None:
    """Personal-data reads are audited by one writer task per process that
    flushes every 0.5 s in one transaction, instead of a write transaction at
    the end of every read request.  The rows are the gateway's own (its
    ``write_pii_audit`` runs against a session that only collects them)."""
    import asyncio
    from types import SimpleNamespace

    from sqlalchemy import insert

    import minzheng.schema.extensions as ext
    from minzheng.core.models import AuditEntry

    original = ext.write_pii_audit
    if getattr(original, "bench_patched", False):
        return
    pending: list[dict[str, Any]] = []
    state: dict[str, Any] = {"task": None, "factory": None}

    class Collect:
        async def __aenter__(self) -> Collect:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        def begin(self) -> Collect:
            return self

        async def execute(self, _stmt: Any, rows: list[dict[str, Any]]) -> None:
            pending.extend(rows)

    async def flusher() -> None:
        while True:
            await asyncio.sleep(0.5)
            if pending:
                rows = pending[:]
                del pending[:]
                async with state["factory"]() as session, session.begin():
                    await session.execute(insert(AuditEntry), rows)

    async def write_pii_audit(ctx: Any) -> int:
        proxy = SimpleNamespace(
            pii_reads=ctx.pii_reads, extra=ctx.extra, operation_name=ctx.operation_name,
            principal=ctx.principal, request_id=ctx.request_id,
            db=SimpleNamespace(factory=Collect),
        )  # fmt: skip
        written = await original(proxy)
        if state["task"] is None or state["task"].done():
            state["factory"] = ctx.db.factory
            state["task"] = asyncio.get_running_loop().create_task(flusher())
        return written  # type: ignore[no-any-return]

    write_pii_audit.bench_patched = True  # type: ignore[attr-defined]
    ext.write_pii_audit = write_pii_audit


EXPERIMENTS: dict[str, Experiment] = {
    "parser-cache": Experiment(
        "strawberry ParserCache + ValidationCache in the gateway's schema extensions "
        "(no-op where the gateway has them, as it does since the benchmark findings)",
        patch=_parser_cache,
    ),
    "pii-audit-batched": Experiment(
        "personal-data read audit written by a per-process batch writer (0.5 s)",
        patch=_pii_audit_batched,
    ),
    "stats-index": Experiment(
        "covering index person(region_code, died_on, sex, birth_date) for RegionStatistics "
        "(the core has it as ix_person_region_figures since migration core_0003)",
        ddl=(
            "CREATE INDEX IF NOT EXISTS ix_person_region_figures "
            "ON person (region_code, died_on, sex, birth_date)",
            "ANALYZE person",
        ),
    ),
}


def parse(names: str | None) -> list[str]:
    chosen = [n.strip() for n in (names or "").split(",") if n.strip()]
    unknown = [n for n in chosen if n not in EXPERIMENTS]
    if unknown:
        raise SystemExit(
            f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}"
        )
    return chosen


def apply_patches(names: list[str]) -> None:
    for name in names:
        patch = EXPERIMENTS[name].patch
        if patch is not None:
            patch()


async def apply_ddl(engine: Any, names: list[str]) -> None:
    statements = [s for n in names for s in EXPERIMENTS[n].ddl]
    if not statements:
        return
    async with engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)
