"""The benchmark harness in ``bench/``: documents, baselines, timing, report.

These prove the instrument is right (baselines answer exactly what GraphQL
answers, plugin fields reach the mix, the HTTP client and uvicorn runner work,
the report is written); they assert nothing about speed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from bench import documents, experiments, profile, report, server
from bench import run as bench_run
from bench.__main__ import parse as parse_cli
from bench.measure import (
    Budget,
    HttpConnection,
    Series,
    Throughput,
    percentile,
    run_http,
    run_in_process,
    run_throughput,
    uvicorn_server,
)
from minzheng.core.db import create_engine
from minzheng.core.demo import seed_registry

TODAY = dt.date.today()


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7
    assert percentile(list(reversed(values)), 50) == 50


def test_every_document_parses_and_core_variants_drop_the_markers() -> None:
    names = documents.all_names()
    assert names == [
        "1_county_dashboard",
        "2_township_households",
        "3_person_by_id_number",
        "4_persons_page",
        "5_register_household",
    ]
    for name in names:
        doc = documents.load(name)
        assert "@plugin-fields" not in doc.core
        parse(doc.core)


async def test_plugin_fields_are_added_to_the_full_variant(make_api: Any) -> None:
    api = make_api()
    state = api.app.state
    doc = documents.load("1_county_dashboard", state.schema._schema, state.minzheng.plugins)
    assert "exampleNoteCount" in doc.full and "exampleNoteCount" not in doc.core
    person = documents.load("3_person_by_id_number", state.schema._schema, state.minzheng.plugins)
    assert "exampleNotes { text writtenOn }" in person.full
    result = await api.gql(doc.full, {"code": "410823"})
    assert result["regionStatistics"]["exampleNoteCount"] == 0


def test_unknown_experiments_and_tiny_runs_are_refused() -> None:
    with pytest.raises(SystemExit, match="unknown experiment"):
        experiments.parse("parser-cache,warp-drive")
    assert experiments.parse("parser-cache, stats-index") == ["parser-cache", "stats-index"]
    with pytest.raises(SystemExit):
        parse_cli(["run", "--persons", "10"])
    args = parse_cli(["run", "--persons", "10000", "--quick", "--postgres", "postgresql://x/y",
                      "--try", "parser-cache", "--plugin-seed-max", "0", "--out", "/tmp/o"])  # fmt: skip
    assert (args.persons, args.quick, args.postgres, args.tries) == (
        10000,
        True,
        "postgresql://x/y",
        "parser-cache",
    )
    assert args.plugin_seed_max == 0 and str(args.out) == "/tmp/o"


@pytest.fixture
async def seeded(sqlite_url: str) -> str:
    engine = create_engine(sqlite_url)
    try:
        await seed_registry(engine, 400, 3, today=TODAY, workers=0)
    finally:
        await engine.dispose()
    return sqlite_url


async def test_baselines_answer_exactly_what_graphql_answers(seeded: str) -> None:
    app = server.build(seeded)
    try:
        targets = await bench_run.find_targets(app)
        mix = bench_run.query_mix(app, app.gateway.state.minzheng.plugins, targets)
        assert targets.county == "410823" and targets.township.startswith("410823")
        assert len(targets.id_numbers) > 100 and targets.deep_cursor
        problems = await bench_run.check_answers(app, mix, bench_run.auth_headers())
        assert problems == []
    finally:
        await app.engine.dispose()


async def test_a_profile_breaks_a_query_down_beside_its_baseline(seeded: str) -> None:
    app = server.build(seeded)
    try:
        plugins = app.gateway.state.minzheng.plugins
        label, rows, trees = await profile.profile_app(
            app, plugins, "2_township_households", ["core", "baseline"], 8
        )
    finally:
        await app.engine.dispose()
    assert label == "2 township households (50)"
    core, base = dict(rows)["GraphQL core"], dict(rows)["baseline"]
    assert core.requests == base.requests == 8
    for b in (core, base):
        assert b.seconds > 0
        assert sum(b.stages.values()) == pytest.approx(b.seconds)
        assert sum(b.libraries.values()) == pytest.approx(b.seconds)
    completing = "complete the result (executor, resolvers; the baseline's assembly)"
    assert core.stages[completing] > 0 and base.stages[completing] > 0
    assert core.libraries["minzheng executor"] > 0 and base.libraries["minzheng executor"] == 0
    text = profile.render("q2", 8, rows, trees)
    assert "## By stage of the request" in text and "| **total** |" in text
    assert "### GraphQL core: 8 requests" in text and "### baseline: 8 requests" in text


def test_the_profile_command_checks_its_arguments() -> None:
    args = parse_cli(["profile", "3_person_by_id_number", "--variants", "core,baseline"])
    assert (args.query, args.variants, args.persons) == (
        "3_person_by_id_number",
        "core,baseline",
        10_000,
    )
    with pytest.raises(SystemExit):
        parse_cli(["profile", "5_register_household"])
    with pytest.raises(SystemExit):
        parse_cli(["profile", "2_township_households", "--variants", "core,fast"])


async def test_both_executors_answer_the_query_mix_alike(seeded: str) -> None:
    """The executor's short path for plain leaves (minzheng.schema.executor)
    against graphql-core's own, on the full variants with every plugin's fields."""
    import httpx
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from minzheng.schema.executor import Executor

    app = server.build(seeded)
    schema = app.gateway.state.schema
    answers: dict[type, list[Any]] = {}
    try:
        targets = await bench_run.find_targets(app)
        mix = bench_run.query_mix(app, app.gateway.state.minzheng.plugins, targets)
        reads = [q for q in mix if q.doc is not None and q.name != "5_register_household"]
        assert schema.execution_context_class is Executor
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers=bench_run.auth_headers(),
        ) as c:
            for cls in (Executor, StrawberryGraphQLCoreExecutionContext):
                schema.execution_context_class = cls
                answers[cls] = [
                    (
                        await c.post(
                            "/graphql", json={"query": q.doc.full, "variables": q.variables(i)}
                        )
                    ).json()
                    for q in reads
                    for i in (0, 1, 7)
                ]
    finally:
        schema.execution_context_class = Executor
        await app.engine.dispose()
    fast, slow = answers[Executor], answers[StrawberryGraphQLCoreExecutionContext]
    assert len(fast) == 15 and all("errors" not in a for a in fast)
    assert fast == slow


async def test_a_baseline_that_differs_is_reported(seeded: str, monkeypatch: Any) -> None:
    from bench.baseline import Baseline

    original = Baseline.persons_page

    async def wrong(self: Baseline, first: int, after: str | None) -> dict[str, Any]:
        answer = await original(self, first, after)
        answer["persons"]["edges"][0]["node"]["name"] = "张冒名"
        return answer

    monkeypatch.setattr(Baseline, "persons_page", wrong)
    app = server.build(seeded)
    try:
        targets = await bench_run.find_targets(app)
        mix = bench_run.query_mix(app, None, targets)
        problems = await bench_run.check_answers(app, mix, bench_run.auth_headers())
    finally:
        await app.engine.dispose()
    assert problems and all(p.startswith("4 persons page") for p in problems)
    assert "张冒名" in problems[0] and ".name" in problems[0]


async def test_in_process_series_count_statements_and_interleave(seeded: str) -> None:
    app = server.build(seeded)
    try:
        targets = await bench_run.find_targets(app)
        mix = bench_run.query_mix(app, None, targets)

        def series(q: Any, target: str, transport: str) -> Series:
            return Series(q.label, target, transport, "sqlite", 1000)

        plans = bench_run.plans(mix, series, in_process=True)
        assert [len(p) for p in plans] == [2, 2, 2, 2, 2, 1, 1]  # GraphQL + baseline; 5; bare
        budget = Budget(warmup=1, requests=4, seconds=30)
        done = await run_in_process(plans[3], app, app.engine, budget, bench_run.auth_headers())
        graphql, baseline = (s.summary() for s in done)
        assert graphql["n"] == baseline["n"] == 4
        assert graphql["errors"] == baseline["errors"] == 0
        assert baseline["statements"] == 1  # one SELECT for a page
        assert graphql["statements"] >= 1
        (mutation,) = await run_in_process(
            plans[5], app, app.engine, budget, bench_run.auth_headers()
        )
        assert mutation.errors == 0 and len(mutation.latencies_ms) == 4
    finally:
        await app.engine.dispose()


async def test_uvicorn_http_latency_and_throughput(seeded: str) -> None:
    headers = bench_run.auth_headers()
    async with uvicorn_server(seeded, workers=1) as port:
        conn = HttpConnection("127.0.0.1", port, headers)
        status, body = await conn.post("/bare", {"query": "{ hello }"})
        assert status == 200 and json.loads(body) == {"data": {"hello": "world"}}
        status, body = await conn.post("/graphql", {"query": "{ nope }"})
        assert status == 200 and json.loads(body)["errors"]
        await conn.close()
        bare = Series("bare", "bare", "http", "sqlite", 1000)
        (done,) = await run_http([(bare, bench_run.bare_request)], port, Budget(1, 5, 10), headers)
        assert len(done.latencies_ms) == 5 and done.errors == 0
        bad = Series("bad", "graphql", "http", "sqlite", 1000)
        (done,) = await run_http(
            [(bad, lambda i: ("/graphql", {"query": "{ nope }"}))], port, Budget(0, 2, 10), headers
        )
        assert done.errors == 2 and "nope" in done.note
        result = Throughput("bare", "bare", "sqlite", 1000, workers=1, clients=3)
        await run_throughput(
            result, port, bench_run.bare_request, max_requests=30, seconds=20, headers=headers
        )
        assert result.requests == 30 and result.errors == 0 and result.rps > 0


def _fake_results() -> dict[str, Any]:
    def s(query: str, target: str, p50: float, transport: str = "in-process") -> dict[str, Any]:
        return {
            "query": query, "target": target, "transport": transport, "backend": "sqlite",
            "persons": 10_000, "n": 10, "errors": 0, "p50_ms": p50, "p95_ms": p50 * 2,
            "p99_ms": p50 * 3, "mean_ms": p50, "cpu_p50_ms": p50, "statements": 2,
            "statements_max": 2, "note": "",
        }  # fmt: skip

    def run(persons: int, factor: float) -> dict[str, Any]:
        series = [
            s("1 county dashboard", "graphql", 20 * factor),
            s("1 county dashboard", "baseline", 10 * factor),
            s("2 township households (50)", "graphql", 30),
            s("2 township households (50)", "baseline", 20),
            s("3 person by ID number", "graphql", 4),
            s("3 person by ID number", "baseline", 1),
            s("4 persons page 1", "graphql", 2),
            s("4 persons page 1", "baseline", 1),
            s("4 persons page 1,000", "graphql", 2.5),
            s("4 persons page 1,000", "baseline", 1),
        ]
        for item in series:
            item["persons"] = persons
        throughput = [
            {"query": "3 person by ID number", "target": "graphql", "workers": 1, "clients": 8,
             "requests": 70, "errors": 0, "seconds": 1.0, "rps": 70.0, "note": ""},
            {"query": "bare", "target": "bare", "workers": 1, "clients": 8,
             "requests": 100, "errors": 0, "seconds": 1.0, "rps": 100.0, "note": ""},
        ]  # fmt: skip
        return {
            "dataset": {"backend": "sqlite", "persons": persons, "households": persons // 2.5,
                        "cached": True, "seed": {"rows": {"person": persons}}},
            "targets": {"county": "410823", "township": "x", "deep_page": 1000, "page_size": 10},
            "series": series, "throughput": throughput, "problems": [],
        }  # fmt: skip

    return {
        "seconds": 12.0, "plugins": [], "tries": {}, "quick": False, "scales": [10_000, 100_000],
        "runs": [run(10_000, 1), run(100_000, 3)],
        "machine": {"date": "2025-06-15T08:00:00", "cpu": "test", "cores": 2, "memory_gib": 1,
                    "os": "test", "python": "3.11", "sqlite": "3", "postgres": None,
                    "packages": {}, "load_average_start": None, "load_average_end": None},
    }  # fmt: skip


def test_report_checks_targets_and_keeps_the_findings(tmp_path: Path) -> None:
    results = _fake_results()
    checks = {name: met for name, _limit, _value, met in report.targets(results["runs"][0])}
    assert checks["1 county dashboard ÷ baseline"] is False  # 2.0× > 1.3×
    assert checks["2 household list ÷ baseline"] is True  # 1.5×
    assert checks["3 ID lookup p50 in-process"] is True
    assert checks["4 persons page 1,000 ÷ page 1"] is True  # 1.25×
    assert checks["throughput 3 ÷ bare strawberry (1 worker)"] is True  # 0.7
    (tmp_path / "RESULTS.md").write_text("old table\n\n<!-- findings -->\n## Findings\nkept\n")
    md, js = report.write(results, tmp_path, quick=False)
    text = md.read_text()
    assert "## Findings\nkept" in text and "old table" not in text
    assert "| 1 county dashboard | 20.00 (10.00) | 60.00 (30.00) | 3.0× |" in text
    assert json.loads(js.read_text())["runs"][1]["dataset"]["persons"] == 100_000
