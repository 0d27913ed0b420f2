"""Timing: latency series in-process and over HTTP, throughput, uvicorn.

Latency is wall time per request, sequential, after warm-up requests; the
statement count is what the app's engine executed during the request.  Over
HTTP a minimal keep-alive HTTP/1.1 client is used (an httpx client would cost
more than some of the requests it measures, and the load generator shares the
machine with the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent

Request = tuple[str, dict[str, Any]]
"""(path, JSON body)"""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Series:
    """One query on one target, backend and transport."""

    query: str
    target: str  # graphql | baseline | bare
    transport: str  # in-process | http
    backend: str
    persons: int
    latencies_ms: list[float] = field(default_factory=list)
    #: CPU time of this process (all threads) per request, in-process only: it
    #: shows the work done even when other load on the machine stretches wall time
    cpu_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: int = 0
    note: str = ""

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "query": self.query,
            "target": self.target,
            "transport": self.transport,
            "backend": self.backend,
            "persons": self.persons,
            "n": len(lat),
            "errors": self.errors,
            "p50_ms": round(percentile(lat, 50), 3),
            "p95_ms": round(percentile(lat, 95), 3),
            "p99_ms": round(percentile(lat, 99), 3),
            "mean_ms": round(statistics.fmean(lat), 3) if lat else math.nan,
            "cpu_p50_ms": round(percentile(self.cpu_ms, 50), 3) if self.cpu_ms else None,
            "statements": statistics.median(self.statements) if self.statements else None,
            "statements_max": max(self.statements) if self.statements else None,
            "note": self.note,
        }


@dataclass
class Budget:
    """Bounded requests and time per series."""

    warmup: int = 5
    requests: int = 200
    seconds: float = 10.0


@contextlib.contextmanager
def statement_counter(engine: AsyncEngine) -> Iterator[list[int]]:
    """``box[0]`` counts statements executed on ``engine`` while the block runs."""
    box = [0]

    def before(*_args: Any) -> None:
        box[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield box
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


def has_errors(body: bytes) -> bool:
    return b'"errors"' in body and bool(json.loads(body).get("errors"))


Plan = list[tuple[Series, Callable[[int], Request]]]
"""Series measured together, their requests interleaved round-robin: drift in
the machine's load then touches every series alike, and ratios stay fair."""


def _record(series: Series, status: int, body: bytes) -> None:
    if status != 200 or has_errors(body):
        series.errors += 1
        if series.errors == 1:
            series.note = body[:300].decode(errors="replace")


async def run_in_process(
    plan: Plan, app: Any, engine: AsyncEngine, budget: Budget, headers: dict[str, str]
) -> list[Series]:
    """Sequential requests through httpx's ASGI transport."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:
        for i in range(budget.warmup):
            for _series, make in plan:
                path, body = make(i)
                await client.post(path, json=body)
        deadline = time.perf_counter() + budget.seconds * len(plan)
        with statement_counter(engine) as box:
            for i in range(budget.requests):
                for series, make in plan:
                    path, body = make(budget.warmup + i)
                    before = box[0]
                    cpu = time.process_time()
                    started = time.perf_counter()
                    resp = await client.post(path, json=body)
                    elapsed = time.perf_counter() - started
                    series.cpu_ms.append((time.process_time() - cpu) * 1000)
                    series.latencies_ms.append(elapsed * 1000)
                    series.statements.append(box[0] - before)
                    _record(series, resp.status_code, resp.content)
                if time.perf_counter() > deadline:
                    break
    return [series for series, _ in plan]


# ------------------------------------------------------------------ raw HTTP client


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the answer."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {host}:{port}\r\nContent-Type: application/json\r\n{extra}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = None
        chunked = False
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and "close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self.reader.readexactly(length or 0)
        if close:
            await self.close()
        return status, payload

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        return await self.request("POST", path, json.dumps(body).encode())


async def run_http(plan: Plan, port: int, budget: Budget, headers: dict[str, str]) -> list[Series]:
    """Sequential requests over one keep-alive connection to uvicorn on loopback."""
    conn = HttpConnection("127.0.0.1", port, headers)
    try:
        for i in range(budget.warmup):
            for _series, make in plan:
                await conn.post(*make(i))
        deadline = time.perf_counter() + budget.seconds * len(plan)
        for i in range(budget.requests):
            for series, make in plan:
                path, body = make(budget.warmup + i)
                started = time.perf_counter()
                status, payload = await conn.post(path, body)
                series.latencies_ms.append((time.perf_counter() - started) * 1000)
                _record(series, status, payload)
            if time.perf_counter() > deadline:
                break
    finally:
        await conn.close()
    return [series for series, _ in plan]


@dataclass
class Throughput:
    query: str
    target: str
    backend: str
    persons: int
    workers: int
    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "target": self.target,
            "backend": self.backend,
            "persons": self.persons,
            "workers": self.workers,
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "note": self.note,
        }


async def run_throughput(
    result: Throughput,
    port: int,
    make: Callable[[int], Request],
    *,
    max_requests: int,
    seconds: float,
    headers: dict[str, str],
) -> Throughput:
    """``result.clients`` concurrent keep-alive connections until either bound."""
    counter = iter(range(10**9))
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        conn = HttpConnection("127.0.0.1", port, headers)
        try:
            while time.perf_counter() < deadline:
                i = next(counter)
                if i >= max_requests:
                    return
                try:
                    status, payload = await conn.post(*make(i))
                except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                    result.errors += 1
                    result.note = result.note or repr(exc)[:200]
                    await conn.close()
                    continue
                if status != 200 or has_errors(payload):
                    result.errors += 1
                    result.note = result.note or payload[:200].decode(errors="replace")
                else:
                    result.requests += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(result.clients)))
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------------ uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def uvicorn_server(
    url: str, *, workers: int, plugins: str = "all", scope: str = "4108", tries: str = ""
) -> AsyncIterator[int]:
    """A uvicorn process serving ``bench.server:app`` on loopback; yields its port."""
    port = free_port()
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": url,
        "BENCH_PLUGINS": plugins,
        "BENCH_SCOPE": scope,
        "BENCH_TRY": tries,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited on
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.server:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        await _wait_ready(proc, port, workers)
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        if proc.stderr is not None:
            proc.stderr.close()


async def _wait_ready(proc: subprocess.Popen[bytes], port: int, workers: int) -> None:
    """Until every worker answers: ``/healthz`` several times in a row on fresh connections."""
    deadline = time.monotonic() + 60
    ok = 0
    while ok < 3 * workers:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{err[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not become ready within 60 s")
        conn = HttpConnection("127.0.0.1", port, {})
        try:
            status, _ = await conn.request("GET", "/healthz")
            ok = ok + 1 if status == 200 else 0
        except OSError:
            ok = 0
            await asyncio.sleep(0.2)
        finally:
            await conn.close()
