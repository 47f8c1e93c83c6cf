"""The cost of a retraction in a large world, against a full replay of the same run.

On a generated world of its own (a fresh PostgreSQL database: the retractions append to
it, so the cached worlds of the other benchmarks are never touched):

- full replay: `Reads.catch_up` from empty, the cost of a cold start without snapshot;
- a correction: a production posted after the last read-model snapshot, then its
  retraction and the corrected production in one batch: the POST (the write side reads
  the log after the retracted document, looking for one that depends on it) and the
  catch-up after it (`Reads` rebuilds its state from the snapshot, through the filter);
- the retraction of the oldest production nothing used since (before the snapshot): the
  write side reads the whole log after it, the read side replays from the start;
- a cold start of the log holding them (the retractions known before they are met).

    .venv/bin/python -m bench retraction [--lots N] [--quick]
"""

from __future__ import annotations

import gc
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Result, fresh_postgres
from ledger.actors import Actor
from ledger.application import Ledger
from projections.reads import Reads
from projections.snapshot import Snapshots
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


def _retraction(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "document.retracted",
        "occurred_at": document["occurred_at"],
        "retracted_event_id": document["event_id"],
        "reason": "benchmark",
    }


def _timed(ledger: Ledger, reads: Reads, payload: Any, actor: Actor) -> dict[str, float]:
    """Seconds of the POST, and of the read model's catch-up after it."""
    started = time.perf_counter()
    ledger.post(payload, actor)
    posted = time.perf_counter() - started
    started = time.perf_counter()
    reads.catch_up()
    caught_up = time.perf_counter() - started
    return {"post_s": posted, "read_s": caught_up, "total_s": posted + caught_up}


def _result(name: str, cost: dict[str, float], full: float, **notes: Any) -> Result:
    return Result(
        name=name,
        unit="s",
        ours=cost["total_s"],
        baseline=full,
        target="no full replay",
        met=cost["total_s"] < 0.1 * full,  # a tenth: not a replay of any kind
        notes={**cost, "full_replay_s": full, "speedup": full / cost["total_s"], **notes},
    )


def run(lots: int, seed: int = 0) -> list[Result]:
    """The cost of a correction (a production posted after the last read-model snapshot,
    retracted and posted again corrected in one batch), of the retraction of the oldest
    production nothing used (before the snapshot), and of a cold start of the log holding
    them, against a full replay."""
    with fresh_postgres() as url, tempfile.TemporaryDirectory(prefix="kpl-bench-") as folder:
        ledger = Ledger.open(url)
        started = time.perf_counter()
        generate(ledger, lots=lots, seed=seed, progress=False)
        generated = time.perf_counter() - started
        reads = Reads(ledger)
        started = time.perf_counter()
        reads.catch_up()
        full = time.perf_counter() - started
        world = {"lots": lots, "entries": reads.position, "generated_s": generated}
        snapshots = Snapshots(reads, ledger.store, Path(folder) / "read.snapshot")
        saved = snapshots.save()
        assert saved is not None
        (oldest, first), (_, last) = _unused_productions(ledger, reads)
        participant = reads.lot(last["lot_id"])["holder"]
        actor = Actor("authority", f"bench-{participant}", participant)
        wrong = {**last, "event_id": str(uuid.uuid4()), "lot_id": "BENCH-MISTYPED"}
        ledger.post(wrong, actor)
        reads.catch_up()
        corrected = {**wrong, "event_id": str(uuid.uuid4()), "carats": "1.00"}
        correction = _timed(ledger, reads, {"events": [_retraction(wrong), corrected]}, actor)
        results = [
            _result(
                "correction after the last snapshot",
                correction,
                full,
                snapshot_at=saved.position,
                **world,
            )
        ]
        gc.collect()
        participant = reads.lot(first["lot_id"])["holder"]
        actor = Actor("authority", f"bench-{participant}", participant)
        cost = _timed(ledger, reads, _retraction(first), actor)
        results.append(
            _result(
                "retraction of the oldest unused production",
                cost,
                full,
                retracted_position=oldest,
                entries_after_it=reads.position - oldest,
                **world,
            )
        )
        del reads
        gc.collect()
        started = time.perf_counter()
        cold = Reads(ledger)
        cold.catch_up()
        seconds = time.perf_counter() - started
        results.append(
            Result(
                name="cold start of a log holding retractions",
                unit="s",
                ours=seconds,
                baseline=full,
                target="one replay",
                met=seconds < 1.5 * full,
                notes={"full_replay_s": full, "speedup": full / seconds, **world},
            )
        )
        ledger.close()
    return results
