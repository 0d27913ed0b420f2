"""In-process broadcast of committed registry changes, for subscriptions."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from minzheng.core.scope import Principal


@dataclass(frozen=True)
class Change:
    operation: str
    region_code: str | None
    result: dict[str, Any]
    at: dt.datetime


class ChangeBroker:
    """Fan-out of committed changes to subscribers; each sees only its scope."""

    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: set[tuple[asyncio.Queue[Change], Principal]] = set()
        self._queue_size = queue_size

    async def publish(self, operation: str, result: dict[str, Any], _by: Principal) -> None:
        change = Change(operation, result.get("region_code"), result, dt.datetime.now(dt.UTC))
        for queue, principal in list(self._subscribers):
            if principal.sees(change.region_code) and not queue.full():
                queue.put_nowait(change)

    async def subscribe(self, principal: Principal) -> AsyncIterator[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(self._queue_size)
        entry = (queue, principal)
        self._subscribers.add(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(entry)
