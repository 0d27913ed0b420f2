"""Registered GraphQL operations (persisted queries).

A deployment may require that only registered documents run
(``MINZHENG_PERSISTED_QUERIES=required``).  Documents are registered from
``.graphql`` files with ``minzheng persisted register FILE…``; each file is one
document, identified by the SHA-256 of its exact text (the convention clients
use for automatic persisted queries: ``extensions.persistedQuery.sha256Hash``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core.db import Base

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedQuery(Base):
    """A registered GraphQL document (登记的查询)."""

    __tablename__ = "persisted_query"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


async def register(session: AsyncSession, text: str, name: str | None = None) -> tuple[str, bool]:
    """Store ``text``; returns its hash and whether it was new."""
    digest = document_hash(text)
    if await session.get(PersistedQuery, digest) is not None:
        return digest, False
    session.add(PersistedQuery(sha256=digest, document=text, name=name))
    await session.flush()
    return digest, True


class DatabaseQueryStore:
    """Looks documents up by hash, caching what it has found (registered
    documents never change: the hash is of the text)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], *, cache_size: int = 10_000):
        self.factory = factory
        self.cache: dict[str, str] = {}
        self.cache_size = cache_size

    async def get(self, digest: str) -> str | None:
        digest = digest.lower()
        hit = self.cache.get(digest)
        if hit is not None:
            return hit
        if len(digest) != 64:
            return None
        async with self.factory() as session:
            text = await session.scalar(
                select(PersistedQuery.document).where(PersistedQuery.sha256 == digest)
            )
        if text is not None and len(self.cache) < self.cache_size:
            self.cache[digest] = text
        return text
