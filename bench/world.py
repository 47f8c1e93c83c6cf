"""The generated world the read benchmarks run on, cached as a named PostgreSQL database.

`world_url(lots, seed)` returns the URL of `kpl_bench_world_<lots>_<seed>`, building it
with `worlds.generate.generate` when it is missing or incomplete (or when `rebuild`);
`mixing="deep"` the deep-mixing world's, `kpl_bench_world_deep_<lots>_<seed>`; `years`
other than the generator's 3 adds `_<years>y` (the 10M-lot world spans 20 years).
A world is complete once the generator has returned: a marker row records it.

    .venv/bin/python -m bench.world --lots 1000000 [--seed 0] [--years 3] [--mixing deep]
                                    [--rebuild]
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time

import psycopg

from bench.common import ADMIN_URL
from ledger.application import Ledger
from worlds.generate import generate

MARKER = "kpl_bench_world"
DEFAULT_YEARS = inspect.signature(generate).parameters["years"].default


def world_name(lots: int, seed: int, mixing: str = "none", years: int = DEFAULT_YEARS) -> str:
    kind = "" if mixing == "none" else f"{mixing}_"
    span = "" if years == DEFAULT_YEARS else f"_{years}y"
    return f"kpl_bench_world_{kind}{lots}_{seed}{span}"


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _complete(url: str) -> bool:
    try:
        with psycopg.connect(url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = %s", (MARKER,)
            ).fetchone()
            if not row or not row[0]:
                return False
            return connection.execute(f"SELECT 1 FROM {MARKER}").fetchone() is not None
    except psycopg.OperationalError:
        return False


def world_url(
    lots: int,
    seed: int = 0,
    *,
    rebuild: bool = False,
    progress: bool = True,
    mixing: str = "none",
    years: int = DEFAULT_YEARS,
) -> str:
    """The URL of a complete generated world of `lots` lots, built here when needed."""
    name = world_name(lots, seed, mixing, years)
    url = database_url(name)
    if not rebuild and _complete(url):
        _analyzed(url)
        return url
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    ledger = Ledger.open(url)
    try:
        report = generate(
            ledger, lots=lots, seed=seed, years=years, progress=progress, mixing=mixing
        )
    finally:
        ledger.close()
    with psycopg.connect(url) as connection:
        connection.execute(
            f"CREATE TABLE {MARKER} (lots int, seed int, documents int, lots_created int, "
            "seconds float, built_at timestamptz)"
        )
        connection.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s, %s, %s, now())",
            (lots, seed, report.documents, report.lots, report.seconds),
        )
    _analyzed(url)
    return url


def _analyzed(url: str) -> None:
    """Gives the planner statistics of a world never analyzed: autovacuum may be off (it
    is on these machines), and without them PostgreSQL looks a token up by a parallel
    scan (60 ms on the 1M-lot world, against 3 ms) where a server in service would not."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname = 'ledger_events'"
        ).fetchone()
        if row is None or not row[0]:
            connection.execute("ANALYZE")


def world_facts(url: str) -> dict[str, float]:
    """What the marker recorded of the world's generation."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            f"SELECT lots, seed, documents, lots_created, seconds FROM {MARKER}"
        ).fetchone()
    assert row is not None
    return dict(zip(("lots", "seed", "documents", "lots_created", "seconds"), row, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS)
    parser.add_argument("--mixing", choices=("none", "deep"), default="none")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url = world_url(
        args.lots, args.seed, rebuild=args.rebuild, mixing=args.mixing, years=args.years
    )
    print(f"{url} ready after {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
