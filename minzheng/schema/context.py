"""The per-request context: principal, one serialised session, dataloaders."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minzheng.core.scope import Principal


class SerialSession:
    """One ``AsyncSession`` per request, used by one coroutine at a time.

    graphql-core resolves sibling fields concurrently and an ``AsyncSession`` is
    not safe for concurrent use; every read goes through :meth:`run` (or the
    shortcuts), which holds a lock for the duration of one statement.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession], info: dict[str, Any]) -> None:
        self._factory = factory
        self._info = info
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self.statements = 0

    @property
    def factory(self) -> async_sessionmaker[AsyncSession]:
        return self._factory

    @property
    def engine(self) -> Any:
        """The engine the sessions are bound to."""
        return self._factory.kw["bind"]

    @property
    def dialect(self) -> Any:
        """The SQL dialect of the engine the sessions are bound to."""
        return self.engine.dialect

    def _get(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
            self._session.info.update(self._info)
        return self._session

    def authenticated(self, principal: Principal) -> None:
        """The principal for the statements from now on (a websocket that
        authenticated in its ``connection_init``)."""
        if self._session is not None:
            raise RuntimeError("the session has been used: its principal is fixed")
        self._info["principal"] = principal

    def tag(self, operation: str) -> None:
        """Name the GraphQL operation for the audit entries this request writes."""
        self._info["operation"] = operation
        if self._session is not None:
            self._session.info["operation"] = operation

    async def run(self, fn: Callable[[AsyncSession], Any]) -> Any:
        async with self._lock:
            return await fn(self._get())

    async def scalars(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        async with self._lock:
            return list((await self._get().scalars(stmt, params)).all())

    async def scalar(self, stmt: Any) -> Any:
        async with self._lock:
            return await self._get().scalar(stmt)

    async def rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        async with self._lock:
            return list((await self._get().execute(stmt, params)).all())

    async def get(self, model: type, ident: Any) -> Any:
        async with self._lock:
            return await self._get().get(model, ident)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A separate session in its own transaction for one mutation: committed
        when the block ends, rolled back if it raises."""
        async with self._lock:
            if self._session is not None and self._session.in_transaction():
                # let the writer's commit be visible to later reads in this request
                await self._session.rollback()
            async with self._factory() as session:
                session.info.update(self._info)
                async with session.begin():
                    yield session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass
class Context:
    """What every resolver finds in ``info.context``."""

    principal: Principal
    db: SerialSession
    settings: Any
    plugins: Any  # minzheng.core.plugins.LoadedPlugins
    request: Any = None
    response: Any = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    operation_name: str | None = None
    #: dataloaders by name (:class:`minzheng.schema.loaders.Loaders` in a request)
    loaders: dict[str, Any] = field(default_factory=dict)
    #: (entity type, id) of personal records returned unmasked in this request
    pii_reads: set[tuple[str, str]] = field(default_factory=set)
    #: a websocket's ``connection_init`` payload
    connection_params: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


current: contextvars.ContextVar[Context] = contextvars.ContextVar("minzheng_context")
