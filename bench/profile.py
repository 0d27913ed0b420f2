"""``python -m bench profile``: where one query's time goes.

Runs one query of the mix in-process on a bench registry (generated and cached
as ``run`` does) under pyinstrument, a sampling profiler: unlike a tracing
profiler it does not inflate code made of many small calls, which is most of
GraphQL execution.  Writes the call tree and a breakdown of the time by
*stage* of the request (what the sample's stack was doing: reading rows,
completing the result, writing the audit …) and by *library* (the sampled
frame's package), beside the same breakdown for the query's hand-written
baseline: the difference shows where the service spends what the floor does
not.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import data, server
from bench.run import auth_headers, find_targets, query_mix
from minzheng.core.plugins import load
from minzheng.gateway.app import settle_heap

#: the stages of a request, in order of precedence: a sample belongs to the first
#: stage one of whose markers names a frame on its stack
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("write the personal-data audit", ("write_pii_audit", "GroupCommit.", "_flush")),
    # SQLite's writes run on a thread of their own; PostgreSQL answers over a socket
    ("event loop idle (waiting on the database)", ("epoll.poll", "selectors.py")),
    ("serialise the response (JSON)", ("encode_json", "json/encoder.py")),
    # SQLAlchemy runs in a greenlet of its own: its frames name the stage
    (
        "read rows (statements, driver, ORM rows)",
        ("dispatch_batch", "sqlalchemy/", "aiosqlite/", "asyncpg/", "sqlite_driver.py"),
    ),
    (
        "complete the result (executor, resolvers; the baseline's assembly)",
        ("Executor.", "execute_fields", "complete_value", "execute_field", "bench/baseline.py"),
    ),
    (
        "parse, validate, cost check",
        (
            "graphql/language/",
            "graphql/validation/",
            "parse_document",
            "validate_document",
            "minzheng/schema/limits.py",
        ),
    ),
    ("authenticate", ("Authenticator.", "TokenVerifier.")),
)
SAMPLE_SECONDS = 0.0005
VARIANTS = {"core": "GraphQL core", "full": "GraphQL full", "baseline": "baseline"}
OTHER_STAGE = "request handling (ASGI, HTTP view, context, event loop)"

#: a library: the first of these found in the leaf frame's file path
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("minzheng/schema/executor.py", "minzheng executor"),
    ("minzheng/", "minzheng (resolvers, loaders, auth, audit)"),
    ("bench/", "bench baseline"),
    ("graphql/", "graphql-core"),
    ("strawberry/", "strawberry"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("sqlalchemy/", "SQLAlchemy Core and engine"),
    ("aiosqlite/", "database driver"),
    ("sqlite3", "database driver"),
    ("asyncpg/", "database driver"),
    ("json/", "json"),
    ("asyncio/", "asyncio"),
    ("selectors.py", "asyncio"),
    ("starlette/", "starlette and httpx (ASGI)"),
    ("httpx/", "starlette and httpx (ASGI)"),
    ("httpcore/", "starlette and httpx (ASGI)"),
    ("jwt/", "PyJWT"),
    ("site-packages/", "other libraries"),
    ("/lib/python3", "Python standard library"),
)


@dataclass
class Breakdown:
    seconds: float
    requests: int
    stages: Counter[str]
    libraries: Counter[str]

    def per_request_ms(self) -> float:
        return self.seconds / self.requests * 1000


def _leaves(frame: Any, stack: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], float]]:
    """(stack, seconds) of every leaf of pyinstrument's frame tree."""
    stack = (*stack, frame)
    if not frame.children:
        yield stack, frame.time
        return
    for child in frame.children:
        yield from _leaves(child, stack)


def _name(frame: Any) -> str:
    cls = f"{frame.class_name}." if getattr(frame, "class_name", None) else ""
    return f"{frame.file_path or ''}:{cls}{frame.function}"


def stage_of(stack: tuple[Any, ...]) -> str:
    names = [_name(f) for f in reversed(stack)]
    for stage, markers in STAGES:
        for name in names:
            if any(m in name for m in markers):
                return stage
    return OTHER_STAGE


def library_of(stack: tuple[Any, ...]) -> str:
    for frame in reversed(stack):
        path = frame.file_path or ""
        if not path or frame.is_synthetic or (path.startswith("<") and path != "<string>"):
            continue  # [self] frames and built-in calls: the caller names the library
        for marker, library in LIBRARIES:
            if marker in path:
                return library
        return "other"
    return "other"


def breakdown(session: Any, requests: int) -> Breakdown:
    stages: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    root = session.root_frame()
    total = 0.0
    if root is not None:
        for stack, seconds in _leaves(root):
            stages[stage_of(stack)] += seconds
            libraries[library_of(stack)] += seconds
            total += seconds
    return Breakdown(total, requests, stages, libraries)


def table(rows: list[tuple[str, Breakdown]], attr: str) -> str:
    keys: list[str] = []
    for _, b in rows:
        for key, _ in getattr(b, attr).most_common():
            if key not in keys:
                keys.append(key)
    head = "| " + ("stage" if attr == "stages" else "library") + " | "
    head += " | ".join(f"{label} ms/request | share" for label, _ in rows) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(rows)]
    for key in keys:
        cells = []
        for _, b in rows:
            seconds = getattr(b, attr).get(key, 0.0)
            cells.append(f"{seconds / b.requests * 1000:.2f} | {seconds / b.seconds:.0%}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines.append(
        "| **total** | "
        + " | ".join(f"**{b.per_request_ms():.2f}** | 100%" for _, b in rows)
        + " |"
    )
    return "\n".join(lines)


async def profile_app(
    app: server.BenchApp, plugins: Any, query: str, variants: list[str], requests: int
) -> tuple[str, list[tuple[str, Breakdown]], list[str]]:
    """Profile ``requests`` requests of each variant of one query on a built
    app: (the query's label, a breakdown per variant, a call tree per variant)."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    t = await find_targets(app)
    q = {q.name: q for q in query_mix(app, plugins, t)}[query]
    doc = q.doc
    assert doc is not None

    def request(variant: str, i: int) -> tuple[str, dict[str, Any]]:
        if variant == "baseline":
            return f"/baseline/{q.name}", {"variables": q.variables(i)}
        text = doc.core if variant == "core" else doc.full
        return "/graphql", {"query": text, "variables": q.variables(i)}

    rows: list[tuple[str, Breakdown]] = []
    trees: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=auth_headers()
    ) as client:
        for variant in variants:
            for i in range(min(20, requests)):
                path, body = request(variant, i)
                (await client.post(path, json=body)).raise_for_status()
            profiler = Profiler(interval=SAMPLE_SECONDS, async_mode="disabled")
            started = time.perf_counter()
            profiler.start()
            for i in range(requests):
                path, body = request(variant, i)
                resp = await client.post(path, json=body)
                if resp.status_code != 200 or b'"errors"' in resp.content:
                    raise RuntimeError(f"{variant}: {resp.content[:300]!r}")
            profiler.stop()
            wall = time.perf_counter() - started
            session = profiler.last_session
            assert session is not None
            label = VARIANTS[variant]
            rows.append((label, breakdown(session, requests)))
            tree = ConsoleRenderer(
                unicode=False, color=False, show_all=False, time="percent_of_total"
            ).render(session)
            trees.append(
                f"### {label}: {requests} requests, {wall / requests * 1000:.2f} ms each "
                f"(wall, with the profiler)\n\n```\n{_trim(tree)}\n```"
            )
    return q.label, rows, trees


async def profile(
    persons: int, query: str, variants: list[str], requests: int, postgres: str | None
) -> str:
    plugins = load("all")
    if postgres:
        ds = await data.postgres_dataset(postgres, persons, plugins)
    else:
        ds = await data.sqlite_dataset(persons, plugins)
    app = server.build(ds.url, "all")
    settle_heap()
    try:
        label, rows, trees = await profile_app(app, plugins, query, variants, requests)
    finally:
        await app.engine.dispose()
        if postgres:
            await data.drop_postgres_work(postgres, ds)
    return render(f"{label}, {ds.backend}, {ds.persons:,} persons", requests, rows, trees)


def render(title: str, requests: int, rows: list[tuple[str, Breakdown]], trees: list[str]) -> str:
    return (
        "\n\n".join(
            [
                f"# Profile: {title}\n\n"
                f"pyinstrument, sampling every {SAMPLE_SECONDS * 1000:g} ms, {requests} "
                "in-process requests per variant after up to 20 to warm up. Times are "
                "sampled time per request, the profiler's own cost included: compare "
                "shares, not milliseconds, with the benchmark's tables.",
                "## By stage of the request\n\n" + table(rows, "stages"),
                "## By library (the sampled frame's package)\n\n" + table(rows, "libraries"),
                "## Call trees\n\n" + "\n\n".join(trees),
            ]
        )
        + "\n"
    )


def _trim(tree: str, lines: int = 120) -> str:
    rows = tree.strip("\n").splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join([*rows[:lines], f"... ({len(rows) - lines} more lines)"])


def main(
    persons: int,
    query: str,
    variants: list[str],
    requests: int,
    postgres: str | None,
    out: Path | None,
) -> str:
    text = asyncio.run(profile(persons, query, variants, requests, postgres))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text
