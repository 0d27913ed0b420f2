"""Keyset cursor connections: a page costs the same at page 1 and page 1,000.

Rows are ordered by primary key; the cursor is the last key seen.  ``first``
is capped by the ``max_page_size`` setting.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import Select, func, select

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


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, pk = raw.partition(":")
        if prefix != "k":
            raise ValueError
        return int(pk)
    except ValueError:
        raise GraphQLError(
            "after is not a valid cursor", extensions={"code": "BAD_CURSOR"}
        ) from None


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
        self, rows: Sequence[Any], has_next: bool, after: int | None, count: Callable[[], Any]
    ) -> None:
        self.rows = rows
        self.has_next = has_next
        self.after = after
        self._count = count

    @property
    def page_info(self) -> PageInfo:
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.after is not None,
            start_cursor=encode_cursor(self.rows[0].id) if self.rows else None,
            end_cursor=encode_cursor(self.rows[-1].id) if self.rows else None,
        )

    def edges(self, edge_type: type) -> list[Any]:
        return [edge_type(cursor=encode_cursor(r.id), node=r) for r in self.rows]

    async def total_count(self) -> int:
        return int(await self._count())


async def keyset_page(
    info: Any, stmt: Select[Any], pk: Any, *, first: int, after: str | None
) -> Page:
    """Fetch ``first`` rows of ``stmt`` after the cursor, ordered by ``pk``."""
    ctx = info.context
    first = check_first(first, ctx.settings.max_page_size)
    after_pk = decode_cursor(after) if after else None
    page_stmt = stmt
    if after_pk is not None:
        page_stmt = page_stmt.where(pk > after_pk)
    rows = await ctx.db.scalars(page_stmt.order_by(pk).limit(first + 1))
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    return Page(rows[:first], len(rows) > first, after_pk, lambda: ctx.db.scalar(count_stmt))
