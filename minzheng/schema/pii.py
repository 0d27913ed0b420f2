"""Personal data: masked unless ``pii:read``, every unmasked read audited, and
small cells suppressed in statistics.

**Masking at the type level.**  Declare a personal-data field with
:func:`pii_field` on the type (core or plugin) — every path that reaches the
type, in lists, nested, through plugin fields, is masked the same way::

    phone: str | None = pii_field("phone", "contact_phone", "联系电话 Phone",
                                  person="person_id")

Principals without ``pii:read`` get ``410823********123X`` / ``138****5678`` /
``河南省焦作市****``.  Principals with it get the value, and the read is noted
on the request context; :func:`write_pii_audit` writes one audit entry per
person (or per row, when the row names no person) when the operation ends:
principal, time, operation name, request id, the fields read and the region.

**Small cells.**  Statistics resolvers pass their counts through
:func:`small_cell` (one figure) or :func:`small_cells` (a breakdown).  For a
principal without ``pii:read`` a count from 1 to ``MINZHENG_SMALL_CELL_THRESHOLD``
− 1 (default 5) becomes ``null``; in a breakdown the next-smallest cell is
suppressed as well when only one would be, so the hidden cell cannot be
recovered by subtraction from the total.  Zero is shown (it singles out
nobody).  Every suppressed field is flagged in the response:
``extensions.smallCells = {"threshold": 5, "suppressed": ["regionStatistics.bySex.1.count", …]}``
(added by :class:`SmallCellReport`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import strawberry
from sqlalchemy import Table, insert
from strawberry.extensions import SchemaExtension

from minzheng.core.idnumber import mask_id_number
from minzheng.core.models import AuditEntry
from minzheng.schema.direct import context_only

PII_READ = "pii:read"
AUDIT_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
KINDS = ("id_number", "phone", "address", "name")

#: ctx.extra keys
_READS = "pii_read_detail"
_SUPPRESSED = "small_cells"


def mask(kind: str, value: str) -> str:
    """Mask one value: keep what identifies nobody, hide the rest."""
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        digits = value.strip()
        return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)
    if kind == "address":
        return value[:6] + "****" if len(value) > 6 else "****"
    if kind == "name":
        return value[:1] + "*" * max(1, len(value) - 1) if value else value
    raise ValueError(f"unknown personal-data kind {kind!r} (known: {', '.join(KINDS)})")


def _person_of(root: Any, person: str | None) -> tuple[str, str] | None:
    """(entity type, id) the read is about: the person if the row names one."""
    if person is not None:
        pid = getattr(root, person, None)
        return ("Person", str(pid)) if pid is not None else None
    pid = getattr(root, "person_id", None)
    if pid is not None:
        return ("Person", str(pid))
    ident = getattr(root, "id", None)
    return (type(root).__name__, str(ident)) if ident is not None else None


def note_entity_read(
    ctx: Any, entity_type: str, ident: str, fields: set[str], region: str | None
) -> None:
    """Record on the request that ``fields`` of an entity were shown unmasked."""
    key = (entity_type, str(ident))
    ctx.pii_reads.add(key)
    detail: dict[tuple[str, str], dict[str, Any]] = ctx.extra.setdefault(_READS, {})
    entry = detail.setdefault(key, {"fields": set(), "region": None})
    entry["fields"] |= fields
    if entry["region"] is None:
        entry["region"] = region


def note_read(ctx: Any, root: Any, field: str, person: str | None = None) -> None:
    """Record on the request that ``field`` of ``root`` was returned unmasked."""
    key = _person_of(root, person) or (type(root).__name__, "?")
    note_entity_read(
        ctx, key[0], key[1], {f"{type(root).__name__}.{field}"}, getattr(root, "region_code", None)
    )


def pii_field(kind: str, attr: str, description: str, *, person: str | None = None) -> Any:
    """A ``String`` field reading ``root.<attr>``, masked unless the principal
    holds ``pii:read``; unmasked reads are audited.

    ``person`` names the attribute holding the person's id when the row is not
    the person itself (default: ``person_id`` if the row has one).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown personal-data kind {kind!r} (known: {', '.join(KINDS)})")

    def resolve(root: Any, info: strawberry.Info) -> str | None:
        value = getattr(root, attr)
        if value is None:
            return None
        ctx = info.context
        if ctx.principal.can(PII_READ):
            note_read(ctx, root, attr, person)
            return value  # type: ignore[no-any-return]
        return mask(kind, value)

    return strawberry.field(resolver=context_only(resolve), description=description)


def mask_record(values: dict[str, Any] | None, principal: Any) -> dict[str, Any] | None:
    """A stored snapshot (audit before/after) with its personal data masked
    unless ``pii:read``."""
    if values is None or principal.can(PII_READ):
        return values
    out = dict(values)
    for key, kind in (("id_number", "id_number"), ("phone", "phone"), ("address", "address")):
        if isinstance(out.get(key), str):
            out[key] = mask(kind, out[key])
    return out


async def write_pii_audit(ctx: Any) -> int:
    """One ``pii.read`` audit entry per person (or row) read unmasked in this
    request.  Returns the number written; the response waits until they are
    committed (see :class:`GroupCommit`)."""
    if not ctx.pii_reads:
        return 0
    detail: dict[tuple[str, str], dict[str, Any]] = ctx.extra.get(_READS, {})
    now = dt.datetime.now(dt.UTC)
    operation = ctx.operation_name or "anonymous"
    rows = []
    for entity_type, ident in sorted(ctx.pii_reads):
        d = detail.get((entity_type, ident), {})
        rows.append(
            {
                "at": now,
                "principal": ctx.principal.subject,
                "operation": operation[:128],
                "action": "pii.read",
                "entity_type": entity_type,
                "entity_id": None if ident == "?" else ident,
                "region_code": d.get("region"),
                "before": None,
                "after": {"fields": sorted(d.get("fields", ()))},
                "request_id": ctx.request_id,
            }
        )
    await GroupCommit.of(ctx.db.engine).write(rows)
    ctx.pii_reads.clear()
    detail.clear()
    return len(rows)


class GroupCommit:
    """Audit rows of concurrent requests written in one transaction.

    Each request queues its rows and waits for its own future; whoever holds the
    lock writes everything queued so far, commits, and resolves every waiter in
    the batch.  A request is answered only once its entries are committed (as
    with a write per request), but concurrent requests share a transaction:
    SQLite has one writer, and separate transactions made them wait on each
    other's locks (a busy-wait) at the end of every read.  If the write fails,
    every request in the batch fails with the error.
    """

    _instances: ClassVar[weakref.WeakKeyDictionary[Any, dict[Any, GroupCommit]]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        #: with asyncpg, whose executemany is atomic on its own (all rows, one
        #: Sync), the rows are written without BEGIN and COMMIT round trips
        dialect = getattr(engine, "dialect", None)
        self._autocommit = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if getattr(dialect, "driver", None) == "asyncpg"
            else None
        )
        self._lock = asyncio.Lock()
        self._queue: list[tuple[list[dict[str, Any]], asyncio.Future[None]]] = []

    @classmethod
    def of(cls, engine: Any) -> GroupCommit:
        """The writer for this engine on the running event loop."""
        per_loop = cls._instances.setdefault(engine, {})
        loop = asyncio.get_running_loop()
        writer = per_loop.get(loop)
        if writer is None:
            per_loop.clear()  # a writer is bound to its loop's lock
            writer = per_loop[loop] = cls(engine)
        return writer

    async def write(self, rows: list[dict[str, Any]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((rows, done))
        async with self._lock:
            if not done.done():
                batch, self._queue = self._queue, []
                # the batch carries other requests' rows: a client that goes away
                # while its request writes them must not cancel their write
                await asyncio.shield(self._flush(batch))
        await done

    async def _flush(self, batch: list[tuple[list[dict[str, Any]], asyncio.Future[None]]]) -> None:
        try:
            # a Core insert on the engine's connection: a page of households reads
            # a few hundred persons, and the ORM's bulk path builds a state per
            # row; the audit table is not region-scoped, so a session (its scope
            # hooks, and on PostgreSQL the scope settings of its transaction)
            # would only add cost
            entries = [row for rows, _ in batch for row in rows]
            connect = self._engine.begin if self._autocommit is None else self._autocommit.connect
            async with connect() as conn:
                await conn.execute(insert(AUDIT_TABLE), entries)
        except BaseException as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)


# ---------------------------------------------------------------- small cells


def _suppresses(ctx: Any) -> bool:
    return not ctx.principal.can(PII_READ)


def _threshold(ctx: Any) -> int:
    return int(getattr(ctx.settings, "small_cell_threshold", 5))


def _flag(ctx: Any, path: str) -> None:
    ctx.extra.setdefault(_SUPPRESSED, []).append(path)


def _path_of(info: Any) -> str:
    keys = []
    p = info.path
    while p is not None:
        keys.append(str(p.key))
        p = p.prev
    return ".".join(reversed(keys))


def is_small(ctx: Any, count: int | None) -> bool:
    """Would ``count`` be suppressed for this request's principal?"""
    return count is not None and _suppresses(ctx) and 0 < count < _threshold(ctx)


def small_cell(info: Any, count: int | None, *, path: str | None = None) -> int | None:
    """``count``, or ``None`` (flagged) when it would single out a family."""
    ctx = info.context
    if is_small(ctx, count):
        _flag(ctx, path or _path_of(info))
        return None
    return count


def small_cells(
    info: Any, counts: Sequence[int | None], *, field: str = "count"
) -> list[int | None]:
    """A breakdown's counts with small cells — and, when only one would be
    hidden, the next-smallest non-zero cell — suppressed.  Flags
    ``<path>.<i>.<field>`` for each."""
    ctx = info.context
    out: list[int | None] = list(counts)
    if not _suppresses(ctx):
        return out
    hidden = {i for i, c in enumerate(counts) if is_small(ctx, c)}
    if len(hidden) == 1:
        rest = sorted(
            (c, i) for i, c in enumerate(counts) if i not in hidden and c is not None and c > 0
        )
        if rest:
            hidden.add(rest[0][1])
    base = _path_of(info)
    for i in sorted(hidden):
        out[i] = None
        _flag(ctx, f"{base}.{i}.{field}")
    return out


def small_cell_amount(info: Any, amount: int | None, count: int | None) -> int | None:
    """An amount (fen) aggregated over ``count`` subjects: hidden with the count."""
    ctx = info.context
    if is_small(ctx, count):
        _flag(ctx, _path_of(info))
        return None
    return amount


class SmallCellReport(SchemaExtension):
    """Adds ``extensions.smallCells`` to a response in which cells were suppressed."""

    def on_operation(self) -> Iterator[None]:
        yield

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        extra = getattr(ctx, "extra", None) or {}
        suppressed = extra.get(_SUPPRESSED)
        if not suppressed:
            return {}
        return {"smallCells": {"threshold": _threshold(ctx), "suppressed": list(suppressed)}}


__all__ = [
    "PII_READ",
    "SmallCellReport",
    "is_small",
    "mask",
    "mask_record",
    "note_entity_read",
    "note_read",
    "pii_field",
    "small_cell",
    "small_cell_amount",
    "small_cells",
    "write_pii_audit",
]
