"""Runs the benchmarks, prints a table (benchmark, ours, baseline, ratio, target, met?)
and writes bench/results/latest.json.

    .venv/bin/python -m bench [all|capture|signed|queries|rebuild|memory|coldstart|proofs|
                               deepmix|page|tlog|screening|retraction|paths|replica] [--lots N]
                              [--seed S] [--quick] [--rebuild]
    .venv/bin/python -m bench history [--lots N] [--years Y] [--cte]

The read benchmarks run on a generated world of `--lots` lots (1,000,000 by default,
20,000 with `--quick`), cached between runs as a PostgreSQL database (see `bench.world`);
`deepmix` on the deep-mixing world (`bench.deepmix`: 150,000 lots, 10,000 with `--quick`;
`--lots` sets its size when it runs alone).
`screening` screens 10,000 generated operators against a generated list of 20,000
companies (1,000 and 2,000 with `--quick`; see `bench.screening`).

`paths` (`bench.paths`) generates its worlds in memory: a deep one of 20,000 lots (5,000
with `--quick`; `--lots` sets it when it runs alone) and a plain one of 100,000 (20,000).
`history` (not part of `all`) is `bench.history`, the KP's whole history: 10,000,000 lots
over 20 years by default (`--quick`: 20,000 lots).
Ratios are "x of the baseline" for throughputs and "x faster" for latencies.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import (
    bench_proofs,
    capture,
    deepmix,
    history,
    page,
    queries,
    rebuild,
    replica,
    retraction,
    screening,
    tlog,
)
from bench import paths as bench_paths
from bench.common import Result, ratio, results_dir, table
from bench.world import world_facts, world_url

BENCHMARKS = (
    "capture",
    "signed",
    "queries",
    "rebuild",
    "memory",
    "coldstart",
    "proofs",
    "deepmix",
    "page",
    "tlog",
    "screening",
    "retraction",
    "paths",
    "replica",
)
ALONE = ("history",)  # not part of `all`: hours on a 2-core machine
FULL = {
    "lots": 1_000_000,
    "batch": 100_000,
    "single_seconds": 20,
    "signed": 50_000,
    "samples": 1000,
    "leaves": 1_000_000,
    "deep_lots": 150_000,
    "history_lots": 10_000_000,
    "history_years": 20,
    "listed_companies": 20_000,
    "screened_operators": 10_000,
    "retraction_lots": 100_000,
    "paths_deep_lots": 20_000,
    "paths_lots": 100_000,
    "paths_pairs": 200,
    "replica_lots": 20_000,
}
QUICK = {
    "lots": 20_000,
    "batch": 10_000,
    "single_seconds": 5,
    "signed": 10_000,
    "samples": 1000,
    "leaves": 100_000,
    "deep_lots": 10_000,
    "history_lots": 20_000,
    "history_years": 20,
    "listed_companies": 2_000,
    "screened_operators": 1_000,
    "retraction_lots": 5_000,
    "paths_deep_lots": 5_000,
    "paths_lots": 20_000,
    "paths_pairs": 50,
    "replica_lots": 2_000,
}


def _json_safe(figures: dict[str, Any]) -> dict[str, Any]:
    """NaN (no baseline) as null, which JSON has."""
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in figures.items()
    }


def _machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", nargs="?", default="all", choices=("all", *BENCHMARKS, *ALONE))
    parser.add_argument("--lots", type=int, help="lots of the generated world")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated world")
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached world")
    parser.add_argument("--years", type=int, help="years of the history world (default 20)")
    parser.add_argument(
        "--cte", action="store_true", help="history: also the recursive CTEs, as baselines"
    )
    args = parser.parse_args(argv)
    sizes = {**(QUICK if args.quick else FULL)}
    if args.lots:
        alone = {
            "deepmix": "deep_lots",
            "history": "history_lots",
            "retraction": "retraction_lots",
            "paths": "paths_deep_lots",
            "replica": "replica_lots",
        }
        sizes[alone.get(args.benchmark, "lots")] = args.lots
    if args.years:
        sizes["history_years"] = args.years
    chosen = BENCHMARKS if args.benchmark == "all" else (args.benchmark,)

    world: dict[str, str] = {}

    def url() -> str:
        if "url" not in world:
            world["url"] = world_url(sizes["lots"], args.seed, rebuild=args.rebuild)
        return world["url"]

    def deep_url() -> str:
        if "deep_url" not in world:
            world["deep_url"] = world_url(
                sizes["deep_lots"], args.seed, rebuild=args.rebuild, mixing="deep"
            )
        return world["deep_url"]

    def history_url() -> str:
        if "history_url" not in world:
            world["history_url"] = world_url(
                sizes["history_lots"],
                args.seed,
                rebuild=args.rebuild,
                years=sizes["history_years"],
            )
        return world["history_url"]

    runners: dict[str, Callable[[], list[Result]]] = {
        "capture": lambda: [
            capture.batch_capture(sizes["batch"]),
            *capture.single_capture(sizes["single_seconds"]),
        ],
        "signed": lambda: [capture.signed_capture(sizes["signed"])],
        "queries": lambda: queries.run(url(), samples=sizes["samples"], seed=args.seed),
        "rebuild": lambda: [rebuild.rebuild(url())],
        "memory": lambda: [rebuild.memory(url())],
        "coldstart": lambda: rebuild.cold_start(url()),
        "proofs": lambda: bench_proofs.run(sizes["leaves"], sizes["samples"], args.seed),
        "deepmix": lambda: deepmix.run(deep_url(), samples=sizes["samples"], seed=args.seed),
        "page": lambda: page.run(url(), seed=args.seed),
        "tlog": lambda: tlog.run(url()),
        "screening": lambda: screening.run(
            sizes["listed_companies"], sizes["screened_operators"], seed=args.seed
        ),
        "retraction": lambda: retraction.run(sizes["retraction_lots"], seed=args.seed),
        "paths": lambda: bench_paths.run(
            sizes["paths_deep_lots"], sizes["paths_lots"], args.seed, sizes["paths_pairs"]
        ),
        "replica": lambda: replica.run(sizes["replica_lots"]),
        "history": lambda: history.run(
            history_url(),
            samples=sizes["samples"],
            seed=args.seed,
            cte=args.cte,
        ),
    }
    started = time.perf_counter()
    results: list[Result] = []
    for name in chosen:
        found = runners[name]()
        results += found
        print("\n".join(table(found).splitlines()[2:]), flush=True)
    report = {
        "at": datetime.now(UTC).isoformat(),
        "benchmarks": list(chosen),
        "sizes": sizes,
        "world": world_facts(world["url"]) if "url" in world else None,
        "deep_world": world_facts(world["deep_url"]) if "deep_url" in world else None,
        "history_world": world_facts(world["history_url"]) if "history_url" in world else None,
        "machine": _machine(),
        "seconds": time.perf_counter() - started,
        "results": [_json_safe({**r.to_json(), "shown_ratio": ratio(r)}) for r in results],
    }
    path = results_dir() / ("history.json" if args.benchmark in ALONE else "latest.json")
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print()
    print(table(results))
    print(f"\nsizes {sizes}; machine {report['machine']}; written to {path}")
    return 0
