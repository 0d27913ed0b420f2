"""Keyset cursor connections: a page costs the same at page 1 and page 1,000.

Rows are ordered by primary key; the cursor is the last key seen.  ``first``
is capped by the ``max_page_size`` setting.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import Select, func, select, tuple_

T = TypeVar("T")


@strawberry.type(description="分页信息 Pagination state of a connection")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="连接中的一条 An item in a connection, with its cursor")
class Edge(Generic[T]):
    cursor: str
    node: T


def encode_key(values: Sequence[Any]) -> str:
    """An opaque cursor for the ordering key of a row (one or more column values)."""
    raw = "k:" + json.dumps(list(values), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_key(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, body = raw.partition(":")
        values = json.loads(body) if prefix == "k" else None
        if not isinstance(values, list) or len(values) != width:
            raise ValueError
        if not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in values):
            raise ValueError
        return values
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(
            "after is not a valid cursor", extensions={"code": "BAD_CURSOR"}
        ) from None


def encode_cursor(pk: int) -> str:
    return encode_key([pk])


def decode_cursor(cursor: str) -> int:
    value = decode_key(cursor, 1)[0]
    if not isinstance(value, int):
        raise GraphQLError("after is not a valid cursor", extensions={"code": "BAD_CURSOR"})
    return value


def check_first(first: int, cap: int) -> int:
    if first < 0:
        raise GraphQLError("first must not be negative", extensions={"code": "BAD_PAGE_SIZE"})
    if first > cap:
        raise GraphQLError(
            f"first must be at most {cap}", extensions={"code": "PAGE_SIZE_EXCEEDED"}
        )
    return first


class Page:
    """The rows of one page plus what the connection fields need."""

    def __init__(
        self,
        rows: Sequence[Any],
        has_next: bool,
        after: Sequence[Any] | None,
        count: Callable[[], Any],
        key: Callable[[Any], list[Any]],
    ) -> None:
        self.rows = rows
        self.has_next = has_next
        self.after = after
        self._count = count
        self._key = key

    def cursor(self, row: Any) -> str:
        return encode_key(self._key(row))

    @property
    def page_info(self) -> PageInfo:
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.after is not None,
            start_cursor=self.cursor(self.rows[0]) if self.rows else None,
            end_cursor=self.cursor(self.rows[-1]) if self.rows else None,
        )

    def edges(self, edge_type: type) -> list[Any]:
        return [edge_type(cursor=self.cursor(r), node=r) for r in self.rows]

    async def total_count(self) -> int:
        return int(await self._count())


async def keyset_page(
    info: Any,
    stmt: Select[Any],
    key: Any,
    *,
    first: int,
    after: str | None,
) -> Page:
    """Fetch ``first`` rows of ``stmt`` after the cursor, ordered by ``key``.

    ``key`` is one unique column (the primary key) or a tuple of columns ending
    in one, e.g. ``(Person.region_code, Person.id)``: with an index on exactly
    those columns, the region scope, a region filter and the ordering are one
    index range scan, so every page costs the same for any principal.
    """
    ctx = info.context
    first = check_first(first, ctx.settings.max_page_size)
    columns = tuple(key) if isinstance(key, (tuple, list)) else (key,)
    after_key = decode_key(after, len(columns)) if after else None
    page_stmt = stmt
    if after_key is not None:
        if len(columns) == 1:
            page_stmt = page_stmt.where(columns[0] > after_key[0])
        else:
            page_stmt = page_stmt.where(tuple_(*columns) > tuple_(*after_key))
    rows = await ctx.db.scalars(page_stmt.order_by(*columns).limit(first + 1))
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())

    def row_key(row: Any) -> list[Any]:
        return [getattr(row, c.key) for c in columns]

    return Page(
        rows[:first], len(rows) > first, after_key, lambda: ctx.db.scalar(count_stmt), row_key
    )
