"""One benchmark run: data, correctness check, latency, throughput, per backend and scale."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bench import data, documents, experiments, server
from bench.measure import (
    Budget,
    Plan,
    Request,
    Series,
    Throughput,
    run_http,
    run_in_process,
    run_throughput,
    uvicorn_server,
)
from minzheng.core.idnumber import make_id_number
from minzheng.core.models import Household, Person
from minzheng.core.plugins import LoadedPlugins, load
from minzheng.gateway.app import settle_heap
from minzheng.gateway.auth import issue_token
from minzheng.schema.pagination import encode_key

COUNTY = "410823"  # 武陟县, the largest rural county
PAGE_SIZE = 10
DEEP_PAGE = 1000
HOUSEHOLD_PAGE = 50
SAMPLE_IDS = 500
BARE = "0_bare_strawberry"


@dataclass
class Config:
    scales: list[int]
    postgres: str | None = None
    quick: bool = False
    plugins: str = "all"
    latency: Budget = field(default_factory=Budget)
    throughput_seconds: float = 10.0
    throughput_requests: int = 20_000
    clients: int = 8
    tries: list[str] = field(default_factory=list)
    plugin_seed_max: int = data.PLUGIN_SEED_MAX_HOUSEHOLDS
    log: Callable[[str], None] = print

    @classmethod
    def for_run(cls, persons: int, quick: bool, postgres: str | None) -> Config:
        scales = [s for s in (10_000, 100_000, 1_000_000) if s <= persons] or [persons]
        if quick:
            return cls(
                scales=[persons],
                postgres=postgres,
                quick=True,
                latency=Budget(warmup=3, requests=30, seconds=1.5),
                throughput_seconds=2.5,
                throughput_requests=3_000,
                clients=8,
            )
        if persons not in scales:
            scales.append(persons)
        return cls(
            scales=scales,
            postgres=postgres,
            latency=Budget(warmup=5, requests=100, seconds=5.0),
            throughput_seconds=6.0,
        )


@dataclass
class Targets:
    """What the queries ask for in this registry."""

    county: str
    township: str
    village: str
    id_numbers: list[str]
    deep_cursor: str | None
    deep_page: int


async def find_targets(app: server.BenchApp) -> Targets:
    async with app.engine.connect() as conn:
        township = await conn.scalar(
            select(Household.township_code)
            .where(Household.county_code == f"{COUNTY}000000")
            .group_by(Household.township_code)
            .order_by(func.count().desc(), Household.township_code)
            .limit(1)
        )
        village = await conn.scalar(
            select(func.min(Household.region_code)).where(Household.township_code == township)
        )
        total = int(await conn.scalar(select(func.count()).select_from(Person)) or 0)
        step = max(1, total // SAMPLE_IDS)
        numbers = list(
            (
                await conn.scalars(
                    select(Person.id_number).where(Person.id % step == 0).order_by(Person.id)
                )
            ).all()
        )[:SAMPLE_IDS]
        page = min(DEEP_PAGE, max(1, (total - 1) // PAGE_SIZE + 1))
        deep = None
        if page > 1:  # the connection's order: region, then key
            last = (
                await conn.execute(
                    select(Person.region_code, Person.id)
                    .order_by(Person.region_code, Person.id)
                    .offset((page - 1) * PAGE_SIZE - 1)
                    .limit(1)
                )
            ).one()
            deep = encode_key([last.region_code, last.id])
    return Targets(COUNTY, str(township), str(village), numbers, deep, page)


class Registrations:
    """Valid, unique households of four for the mutation (ID numbers from an
    address code the generator never uses)."""

    def __init__(self, village: str) -> None:
        self.village = village
        self.counter = itertools.count()

    def __call__(self, _i: int) -> dict[str, Any]:
        n = next(self.counter)
        day = dt.timedelta(days=n)
        people = [
            ("HEAD", dt.date(1970, 1, 1) + day, 11, "张建国"),
            ("SPOUSE", dt.date(1972, 1, 1) + day, 22, "李秀英"),
            ("CHILD", dt.date(2008, 1, 1) + day, 31, "张浩然"),
            ("CHILD", dt.date(2012, 1, 1) + day, 42, "张欣怡"),
        ]
        return {
            "regionCode": self.village,
            "members": [
                {
                    "idNumber": make_id_number("410102", birth, seq),
                    "name": name,
                    "relation": relation,
                    "inSchool": relation == "CHILD",
                }
                for relation, birth, seq, name in people
            ],
        }


@dataclass
class Query:
    name: str  # file stem, or BARE
    label: str
    doc: documents.Document | None
    variables: Callable[[int], dict[str, Any]]
    baseline: bool


def query_mix(app: server.BenchApp, plugins: LoadedPlugins, t: Targets) -> list[Query]:
    schema = app.gateway.state.schema._schema
    docs = {n: documents.load(n, schema, plugins) for n in documents.all_names()}
    ids = t.id_numbers
    registrations = Registrations(t.village)
    return [
        Query(
            "1_county_dashboard",
            "1 county dashboard",
            docs["1_county_dashboard"],
            lambda i: {"code": t.county},
            True,
        ),
        Query(
            "2_township_households",
            "2 township households (50)",
            docs["2_township_households"],
            lambda i: {"code": t.township, "first": HOUSEHOLD_PAGE},
            True,
        ),
        Query(
            "3_person_by_id_number",
            "3 person by ID number",
            docs["3_person_by_id_number"],
            lambda i: {"idNumber": ids[i % len(ids)]},
            True,
        ),
        Query(
            "4_persons_page",
            "4 persons page 1",
            docs["4_persons_page"],
            lambda i: {"first": PAGE_SIZE, "after": None},
            True,
        ),
        Query(
            "4_persons_page",
            f"4 persons page {t.deep_page:,}",
            docs["4_persons_page"],
            lambda i: {"first": PAGE_SIZE, "after": t.deep_cursor},
            True,
        ),
        Query(
            "5_register_household",
            "5 register household of 4",
            docs["5_register_household"],
            lambda i: {"input": registrations(i)},
            False,
        ),
    ]


def graphql_request(
    doc: str, variables: Callable[[int], dict[str, Any]]
) -> Callable[[int], Request]:
    return lambda i: ("/graphql", {"query": doc, "variables": variables(i)})


def baseline_request(
    name: str, variables: Callable[[int], dict[str, Any]]
) -> Callable[[int], Request]:
    return lambda i: (f"/baseline/{name}", {"variables": variables(i)})


def bare_request(_i: int) -> Request:
    return ("/bare", {"query": "{ hello }"})


def auth_headers() -> dict[str, str]:
    token = issue_token(
        server.SECRET, subject="bench@410800", roles=["caseworker"], region="410800", ttl=86400
    )
    return {"Authorization": f"Bearer {token}"}


async def check_answers(
    app: server.BenchApp, mix: list[Query], headers: dict[str, str]
) -> list[str]:
    """The baseline must answer exactly what GraphQL answers (core variants)."""
    import httpx

    problems = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as c:
        for q in mix:
            if not q.baseline or q.doc is None:
                continue
            for i in (0, 1, 7):
                gql = await c.post(
                    "/graphql", json={"query": q.doc.core, "variables": q.variables(i)}
                )
                base = await c.post(f"/baseline/{q.name}", json={"variables": q.variables(i)})
                g, b = gql.json(), base.json()
                if g.get("errors"):
                    problems.append(f"{q.label}: GraphQL errors {g['errors']}")
                elif g != b:
                    problems.append(
                        f"{q.label}: baseline differs: "
                        f"{json.dumps(_diff(g, b), ensure_ascii=False)[:500]}"
                    )
    return problems


def _diff(a: Any, b: Any, path: str = "") -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _diff(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _diff(x, y, f"{path}[{i}]")
    return {"path": path, "graphql": a, "baseline": b}


def plans(
    mix: list[Query], series: Callable[[Query, str, str], Series], *, in_process: bool
) -> list[Plan]:
    """Per query: GraphQL (full, and core when plugins add fields) and its
    baseline, interleaved; then the bare schema."""
    transport = "in-process" if in_process else "http"
    out: list[Plan] = []
    for q in mix:
        assert q.doc is not None
        plan: Plan = [(series(q, "graphql", transport), graphql_request(q.doc.full, q.variables))]
        if q.doc.has_plugin_fields and in_process:
            plan.append(
                (series(q, "graphql-core", transport), graphql_request(q.doc.core, q.variables))
            )
        if q.baseline:
            plan.append((series(q, "baseline", transport), baseline_request(q.name, q.variables)))
        out.append(plan)
    bare = Query(BARE, "bare", None, lambda i: {}, False)
    out.append([(series(bare, "bare", transport), bare_request)])
    return out


async def run_scale(ds: data.Dataset, plugins: LoadedPlugins, cfg: Config) -> dict[str, Any]:
    """Latency (in-process and HTTP) and throughput for one registry."""
    log = cfg.log
    out: dict[str, Any] = {"dataset": ds.to_json(), "series": [], "throughput": [], "problems": []}
    headers = auth_headers()
    experiments.apply_patches(cfg.tries)
    app = server.build(ds.url, cfg.plugins)
    settle_heap()  # as a server process does once the application is built
    try:
        await experiments.apply_ddl(app.engine, cfg.tries)
        t = await find_targets(app)
        mix = query_mix(app, plugins, t)
        out["targets"] = {
            "county": t.county,
            "township": t.township,
            "village": t.village,
            "deep_page": t.deep_page,
            "page_size": PAGE_SIZE,
        }
        out["problems"] = await check_answers(app, mix, headers)
        for p in out["problems"]:
            log(f"  ! {p}")

        def series(q: Query, target: str, transport: str) -> Series:
            label = q.label if target != "bare" else "bare strawberry { hello }"
            return Series(label, target, transport, ds.backend, ds.persons)

        log(f"  in-process latency ({ds.backend}, {ds.persons:,} persons)")
        for plan in plans(mix, series, in_process=True):
            for s in await run_in_process(plan, app, app.engine, cfg.latency, headers):
                out["series"].append(s.summary())
    finally:
        await app.engine.dispose()

    log("  HTTP latency (uvicorn, 1 worker)")
    async with uvicorn_server(
        ds.url, workers=1, plugins=cfg.plugins, tries=",".join(cfg.tries)
    ) as port:
        for plan in plans(mix, series, in_process=False):
            for s in await run_http(plan, port, cfg.latency, headers):
                out["series"].append(s.summary())

    for workers in (1, 2):
        log(
            f"  throughput (uvicorn, {workers} worker{'s' if workers > 1 else ''}, "
            f"{cfg.clients} clients)"
        )
        async with uvicorn_server(
            ds.url, workers=workers, plugins=cfg.plugins, tries=",".join(cfg.tries)
        ) as port:
            loads: list[tuple[str, str, Callable[[int], Request]]] = [
                (mix[1].label, "graphql", graphql_request(mix[1].doc.full, mix[1].variables)),  # type: ignore[union-attr]
                (mix[2].label, "graphql", graphql_request(mix[2].doc.full, mix[2].variables)),  # type: ignore[union-attr]
                (mix[2].label, "baseline", baseline_request(mix[2].name, mix[2].variables)),
                ("bare strawberry { hello }", "bare", bare_request),
            ]
            for label, target, make in loads:
                result = Throughput(label, target, ds.backend, ds.persons, workers, cfg.clients)
                await run_throughput(
                    result,
                    port,
                    make,
                    max_requests=cfg.throughput_requests,
                    seconds=cfg.throughput_seconds,
                    headers=headers,
                )
                out["throughput"].append(result.summary())
    return out


async def run_all(cfg: Config) -> dict[str, Any]:
    plugins = load(cfg.plugins)  # type: ignore[arg-type]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": cfg.quick,
        "tries": {n: experiments.EXPERIMENTS[n].description for n in cfg.tries},
        "plugins": plugins.names(),
        "scales": cfg.scales,
        "runs": [],
    }
    backends = ["sqlite"] + (["postgres"] if cfg.postgres else [])
    for backend in backends:
        for persons in cfg.scales:
            cfg.log(f"{backend}: {persons:,} persons")
            if backend == "sqlite":
                ds = await data.sqlite_dataset(
                    persons, plugins, log=cfg.log, plugin_max=cfg.plugin_seed_max
                )
            else:
                assert cfg.postgres is not None
                ds = await data.postgres_dataset(
                    cfg.postgres, persons, plugins, log=cfg.log, plugin_max=cfg.plugin_seed_max
                )
            cfg.log(
                f"  registry: {ds.households:,} households, {ds.persons:,} persons "
                + ("(cached)" if ds.cached else f"(generated in {ds.seed_seconds:.1f} s)")
            )
            try:
                results["runs"].append(await run_scale(ds, plugins, cfg))
            finally:
                if backend == "postgres" and cfg.postgres:
                    await data.drop_postgres_work(cfg.postgres, ds)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(cfg: Config) -> dict[str, Any]:
    return asyncio.run(run_all(cfg))
