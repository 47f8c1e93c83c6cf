"""Deep mixing: provenance and downstream on the deep-mixing world, against recursive CTEs.

The world is `kpledger generate --mixing deep` (`worlds.generate`), cached by `bench.world`
as `kpl_bench_world_deep_<lots>_<seed>`: half its lots are split, merged and re-exported
among the hubs AE, EU and IN after production. The edge tables, the CTEs and the checks
that both answers agree before timing are `bench.queries`'s. Provenance is timed over
lots drawn from those at least `DEEP` splits and merges deep; downstream from the source
of the most carats. Before timing, every lot's provenance and the traces from the five
sources of the most carats are compared with the exact computation (`tests.exact`: the
`Fraction` shares the read side held before compositions were held in fixed point),
answer for answer. The memory of a caught-up read model is `python -m bench memory`'s
(`bench.rebuild.memory`, a fresh process), and the share of it the lots' compositions
take is counted here, object by object.

    .venv/bin/python -m bench deepmix [--lots N] [--seed S] [--quick] [--rebuild]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date
from typing import Any

import psycopg

from bench import queries, rebuild
from bench.common import Result
from projections.custody import Custody
from projections.provenance import downstream, provenance
from tests.exact import exact_compositions, exact_downstream, exact_provenance
from worlds import lineage

DEEP = 20  # splits and merges: the lots provenance is drawn from
WIDE = 200  # ancestor lots: "fan-in in the hundreds"


def shape(custody: Custody) -> dict[str, Any]:
    """The world's lineage: depths, paths, and its widest lot (exactly: a lot's distinct
    ancestors are fewer than its paths, so only lots with more paths are walked)."""
    lots: dict[str, Any] = custody.lots
    depth = lineage.depths(lots)
    paths = lineage.paths(lots)
    widest = lineage.FanIn("", -1, 0)
    for lot_id in sorted(paths, key=paths.__getitem__, reverse=True):
        if paths[lot_id] - 1 <= widest.ancestors:
            break
        found = lineage.fan_in(lots, lot_id)
        if found.ancestors > widest.ancestors:
            widest = found
    return {
        "depth": depth,
        "paths": paths,
        "max_depth": max(depth.values()),
        "lots_at_least_deep": sum(d >= DEEP for d in depth.values()),
        "max_paths": max(paths.values()),
        "widest": widest,
        "max_sources": max(len(lot.composition) for lot in custody.lots.values()),
    }


def composition_bytes(custody: Custody) -> dict[str, Any]:
    """What the lots' compositions take: the objects, their tuples of sources, their bytes
    of amounts and their integers (carats and bound), each object counted once (split
    children share their parent's composition, produced lots their source's; the source
    ids are the sources' own strings, not counted)."""
    seen: set[int] = set()
    sizes = {"objects": 0, "tuples": 0, "amounts": 0, "integers": 0}
    distinct = inexact = 0
    bounds: list[int] = []

    def once(thing: object) -> int:
        if id(thing) in seen:
            return 0
        seen.add(id(thing))
        return sys.getsizeof(thing)

    for lot in custody.lots.values():
        composition = lot.composition
        if id(composition) in seen:
            continue
        sizes["objects"] += once(composition)
        distinct += 1
        sizes["tuples"] += once(composition.sources)
        sizes["amounts"] += once(composition.data)
        sizes["integers"] += once(composition.carats) + once(composition.bound)
        if composition.bound:
            inexact += 1
            bounds.append(composition.bound)
    lots = len(custody.lots)
    total = sum(sizes.values())
    return {
        "bytes": total,
        "bytes_per_lot": total / lots,
        "per_lot": {kind: size / lots for kind, size in sizes.items()},
        "distinct_compositions": distinct,
        "rounded_compositions": inexact,
        "bound_median_units": statistics.median(bounds) if bounds else 0,
        "bound_max_units": max(bounds, default=0),
    }


def exact_comparison(custody: Custody, sources: int = 5) -> Result:
    """Every lot's provenance, and downstream from the `sources` sources of the most carats,
    against the exact computation (`tests.exact`: `Fraction` shares, as the read side held
    them before fixed point), answer for answer."""
    started = time.perf_counter()
    exact = exact_compositions(custody)
    today = date.today()
    differing = [
        lot_id
        for lot_id in custody.lots
        if provenance(custody, lot_id, today) != exact_provenance(custody, exact, lot_id, today)
    ]
    produced = {
        source_id: sum(custody.lots[lot_id].carats for lot_id in source.lots)
        for source_id, source in custody.sources.items()
    }
    largest = sorted(produced, key=lambda source_id: (-produced[source_id], source_id))[:sources]
    traces_differing = [
        source_id
        for source_id in largest
        if downstream(custody, source_id=source_id) != exact_downstream(custody, exact, {source_id})
    ]
    return Result(
        name="answers equal to the exact computation",
        unit="answers differing",
        ours=len(differing) + len(traces_differing),
        baseline=float("nan"),
        target="0 (every lot's provenance, downstream from the largest sources)",
        met=not differing and not traces_differing,
        notes={
            "provenance_compared": len(custody.lots),
            "provenance_differing": differing[:10],
            "downstream_compared": largest,
            "downstream_differing": traces_differing,
            "seconds": time.perf_counter() - started,
        },
    )


def run(url: str, samples: int = 1000, seed: int = 0) -> list[Result]:
    """The deep world's shape, then provenance and downstream against the CTEs, then memory."""
    reads, facts = queries.with_edge_table(url)
    custody = reads.read(lambda view: view.custody)
    world = shape(custody)
    depth, widest = world["depth"], world["widest"]
    deep = sorted(lot_id for lot_id, d in depth.items() if d >= DEEP)
    sample = random.Random(seed).sample(deep, min(samples, len(deep)))
    fan_in = sorted(lineage.fan_in(custody.lots, lot_id).ancestors for lot_id in sample)
    facts |= {
        "sample_depth_median": statistics.median(depth[lot_id] for lot_id in sample),
        "sample_fan_in_median": statistics.median(fan_in),
        "sample_paths_median": statistics.median(world["paths"][lot_id] for lot_id in sample),
    }
    composition = composition_bytes(custody)
    results = [
        exact_comparison(custody),
        Result(
            name="deep world: longest lineage",
            unit="splits+merges",
            ours=world["max_depth"],
            baseline=float("nan"),
            target=f">= {DEEP}",
            met=world["max_depth"] >= DEEP,
            notes={"lots_at_least_deep": world["lots_at_least_deep"], "deep": DEEP},
        ),
        Result(
            name="deep world: widest fan-in",
            unit="ancestor lots",
            ours=widest.ancestors,
            baseline=float("nan"),
            target=f">= {WIDE}",
            met=widest.ancestors >= WIDE,
            notes={
                "lot_id": widest.lot_id,
                "sources": widest.sources,
                "lot_depth": depth[widest.lot_id],
                "max_sources_of_a_lot": world["max_sources"],
                "max_paths": world["max_paths"],
            },
        ),
    ]
    with psycopg.connect(url) as connection:
        results += [
            *queries.provenance(
                reads,
                connection,
                sample,
                name=f"provenance, lots >= {DEEP} deep (p95)",
                p95_ms=1.0,
                speedup_wanted=100.0,
            ),
            queries.downstream(
                reads,
                connection,
                repeats=3,
                speedup_wanted=20.0,
                min_reached=min(10_000, len(custody.lots) // 20),
            ),
        ]
    del reads, custody
    memory = rebuild.memory(url)
    memory.name = "memory of the caught-up read model, deep world"
    memory.notes["composition"] = composition
    results.append(memory)
    results.append(
        Result(
            name="  of which lots' compositions",
            unit="bytes/lot",
            ours=composition["bytes_per_lot"],
            baseline=float("nan"),
            target="report",
            met=True,
            notes=composition,
        )
    )
    for result in results:
        result.notes |= facts
    return results
