"""``python -m bench run --persons N [--quick] [--postgres URL] [--out DIR]``,
``python -m bench profile QUERY [--persons N] [--postgres URL]``,
``python -m bench report JSON``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import experiments, report
from bench.run import Config, main

HERE = Path(__file__).resolve().parent
#: the queries a profile can run (query 5 writes; it is measured, not profiled)
QUERIES = [p.stem for p in sorted((HERE / "queries").glob("[1-4]_*.graphql"))]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="generate data (cached), measure, write the report")
    run.add_argument(
        "--persons",
        type=int,
        default=1_000_000,
        help="largest registry; a full run also measures the smaller scales",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help="one scale, short series: proves the harness works (CI)",
    )
    run.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on this PostgreSQL server (databases are created on it)",
    )
    run.add_argument("--plugins", default="all", help="plugins to enable (default: all)")
    run.add_argument(
        "--try",
        dest="tries",
        default="",
        metavar="NAMES",
        help="candidate fixes to apply, comma-separated: " + ", ".join(experiments.EXPERIMENTS),
    )
    run.add_argument(
        "--plugin-seed-max",
        type=int,
        default=None,
        metavar="HOUSEHOLDS",
        help="largest registry seeded by the plugins' own demo hooks (default 4,000 "
        "households: they go case by case); larger ones get set-based plugin rows "
        "from bench/plugin_data.py",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the report (default: bench/ for full runs, bench/out/ for --quick)",
    )
    rep = sub.add_parser("report", help="write the Markdown report again from a JSON file")
    rep.add_argument("json", type=Path, help="a results JSON written by `run`")
    prof = sub.add_parser(
        "profile", help="where one query's time goes (pyinstrument), beside its baseline's"
    )
    prof.add_argument("query", help="a query of the mix: " + ", ".join(QUERIES))
    prof.add_argument("--persons", type=int, default=10_000, help="registry size (cached)")
    prof.add_argument("--postgres", metavar="URL", help="profile on this PostgreSQL server")
    prof.add_argument("--requests", type=int, default=200, help="requests per variant")
    prof.add_argument(
        "--variants",
        default="core,full,baseline",
        help="core (the baseline's answer), full (with the plugins' fields), baseline",
    )
    prof.add_argument("--out", type=Path, default=None, help="write the Markdown here too")
    args = parser.parse_args(argv)
    if args.command == "report":
        return args
    if args.command == "profile":
        if args.query not in QUERIES:
            parser.error(f"unknown query {args.query!r} (one of {', '.join(QUERIES)})")
        bad = set(args.variants.split(",")) - {"core", "full", "baseline"}
        if bad:
            parser.error(f"unknown variants {', '.join(sorted(bad))}")
    if args.persons < 1000:
        parser.error("--persons must be at least 1000")
    return args


def cli(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "report":
        results = json.loads(args.json.read_text(encoding="utf-8"))
        md, js = report.write(results, args.json.parent, quick=results.get("quick", False),
                              tag="-".join(results.get("tries") or {}))  # fmt: skip
        print(f"wrote {md} (from {js})")
        return 0
    if args.command == "profile":
        from bench import profile

        text = profile.main(args.persons, args.query, args.variants.split(","), args.requests,
                            args.postgres, args.out)  # fmt: skip
        print(text)
        return 0
    cfg = Config.for_run(args.persons, args.quick, args.postgres)
    cfg.plugins = args.plugins
    cfg.tries = experiments.parse(args.tries)
    if args.plugin_seed_max is not None:
        cfg.plugin_seed_max = args.plugin_seed_max
    started = time.perf_counter()
    machine = report.machine(args.postgres)
    results = main(cfg)
    machine["load_average_end"] = report.load_average()
    results["machine"] = machine
    out = args.out or (HERE / "out" if args.quick else HERE)
    tag = "-".join(cfg.tries)
    md, js = report.write(results, out, quick=args.quick, tag=tag)
    print(f"wrote {md} and {js} in {time.perf_counter() - started:.0f} s")
    problems = [p for r in results["runs"] for p in r["problems"]]
    errors = sum(s["errors"] for r in results["runs"] for s in r["series"])
    if problems or errors:
        print(f"{len(problems)} answer mismatches, {errors} request errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
