"""The cost of a retraction in a large world, against a full replay of the same run.

On a generated world of its own (a fresh PostgreSQL database: the retractions append to
it, so the cached worlds of the other benchmarks are never touched):

- full replay: `Reads.catch_up` from empty, the cost of a cold start without snapshot;
- for a recent document and for the oldest that may be retracted (a lot produced and
  never used since, the last and the first of the log): the retraction's POST (the
  write side reads the log after the retracted document, looking for one that depends
  on it) and the catch-up of the read model that follows it (`Reads` rebuilds its
  state without the retracted document: a replay of the log through the filter).

    .venv/bin/python -m bench retraction [--lots N] [--quick]
"""

from __future__ import annotations

import gc
import time
import uuid
from typing import Any

from bench.common import Result, fresh_postgres
from ledger.actors import Actor
from ledger.application import Ledger
from projections.reads import Reads
from worlds.generate import generate


def _unused_productions(ledger: Ledger, reads: Reads) -> list[tuple[int, dict[str, Any]]]:
    """(position, document) of the first and the last `lot.produced` whose lot nothing
    named since."""
    produced: list[tuple[int, str]] = []
    after = 0
    while page := ledger.read_log(after=after, limit=10_000):
        produced += [(e.position, e.document["lot_id"]) for e in page if e.type == "lot.produced"]
        after = page[-1].position
    unused = reads.read(
        lambda view: [p for p, lot_id in produced if len(view.custody.lots[lot_id].history) == 1]
    )
    first, last = ledger.read_log(unused[0] - 1, 1)[0], ledger.read_log(unused[-1] - 1, 1)[0]
    return [(first.position, first.document), (last.position, last.document)]


def _retract(
    ledger: Ledger, reads: Reads, document: dict[str, Any], actor: Actor
) -> dict[str, float]:
    retraction = {
        "event_id": str(uuid.uuid4()),
        "type": "document.retracted",
        "occurred_at": document["occurred_at"],
        "retracted_event_id": document["event_id"],
        "reason": "benchmark",
    }
    started = time.perf_counter()
    ledger.post(retraction, actor)
    posted = time.perf_counter() - started
    started = time.perf_counter()
    reads.catch_up()
    caught_up = time.perf_counter() - started
    return {"post_s": posted, "read_s": caught_up, "total_s": posted + caught_up}


def run(lots: int, seed: int = 0) -> list[Result]:
    """A retraction's cost (its POST and the read model's catch-up after it), for the last
    and for the first lot produced that nothing used since, against a full replay."""
    with fresh_postgres() as url:
        ledger = Ledger.open(url)
        started = time.perf_counter()
        generate(ledger, lots=lots, seed=seed, progress=False)
        generated = time.perf_counter() - started
        reads = Reads(ledger)
        started = time.perf_counter()
        reads.catch_up()
        full = time.perf_counter() - started
        entries = reads.position
        unused = _unused_productions(ledger, reads)
        results = []
        for which, (position, document) in (("recent", unused[-1]), ("oldest", unused[0])):
            participant = reads.lot(document["lot_id"])["holder"]
            actor = Actor("authority", f"bench-{participant}", participant)
            cost = _retract(ledger, reads, document, actor)
            results.append(
                Result(
                    name=f"retraction of the {which} unused production",
                    unit="s",
                    ours=cost["total_s"],
                    baseline=full,
                    target="no full replay",
                    met=cost["total_s"] < 0.1 * full,  # a tenth: not a replay of any kind
                    notes={
                        **cost,
                        "full_replay_s": full,
                        "retracted_position": position,
                        "entries": entries,
                        "entries_after_it": entries - position,
                        "lots": lots,
                        "generated_s": generated,
                        "speedup": full / cost["total_s"],
                    },
                )
            )
            gc.collect()
        ledger.close()
    return results
