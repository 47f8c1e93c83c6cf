"""The KP's whole history at lot level: a world of ten million lots over twenty years,
generated, served and queried on one machine.

    .venv/bin/python -m bench history [--lots 10000000] [--years 20] [--seed S] [--server-replay]

On `bench.world`'s cached world (generated first when missing: its generation time is
the one its marker recorded), in one run:

1. a `Reads` catches up on the whole log in this process, the full replay, while the
   edge tables of `bench.queries` are taken from the same entries;
2. provenance of 1,000 random lots and downstream from the source of the most carats,
   against the recursive CTEs, the answers checked equal first (`bench.queries`);
3. the read model saved as a snapshot (`projections.snapshot.save`), then dropped;
4. `kpledger serve` from that snapshot: seconds from process start to its first 200 on
   GET /v1/lots/{id} (the answer compared with the one computed in step 1), and the
   server's resident memory; with `--server-replay`, `kpledger serve` with snapshots off
   as well, its full replay timed the same way (the baseline of the cold start; without
   it, the in-process replay of step 1 is, which omits the server's own start).
"""

from __future__ import annotations

import gc
import json
import random
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench import queries
from bench.common import Result
from bench.rebuild import first_read
from bench.world import world_facts
from ledger.application import Ledger
from projections import snapshot
from projections.heap import release_free_heap

SAMPLES = 1000
NEVER = str(2**62)  # KPLEDGER_SNAPSHOT_EVERY: the server saves no snapshot of its own
READY_WITHIN = 3 * 3600  # seconds a server may take to replay before it answers


def run(
    url: str, samples: int = SAMPLES, seed: int = 0, server_replay: bool = False
) -> list[Result]:
    """Replay, queries against the CTEs, snapshot, and the server's cold starts on `url`."""
    facts: dict[str, Any] = {"generation": world_facts(url)}
    started = time.perf_counter()
    reads, edges = queries.with_edge_table(url)
    replay_s = time.perf_counter() - started - edges["edge_table_s"]
    lots = reads.read(lambda view: sorted(view.custody.lots))
    facts |= edges | {"replay_in_process_s": replay_s, "lots": len(lots)}
    sample = random.Random(seed).sample(lots, min(samples, len(lots)))
    with psycopg.connect(url) as connection:
        results = [
            queries.provenance(reads, connection, sample, date.today()),
            queries.downstream(reads, connection, repeats=3),
        ]
    lot_id = sample[0]
    expected = json.loads(json.dumps(reads.lot(lot_id), default=str))
    del lots
    ledger = Ledger.open(url)
    token = ledger.create_token("investigator", "bench-history")
    with tempfile.TemporaryDirectory(prefix="kpl-bench-") as folder:
        path = Path(folder) / "read.snapshot"
        started = time.perf_counter()
        snapshot.save(reads, path, ledger.store.description)
        facts |= {"snapshot_save_s": time.perf_counter() - started}
        facts |= {"snapshot_mb": path.stat().st_size / 2**20}
        del reads
        gc.collect()
        release_free_heap()
        env = {"KPLEDGER_SNAPSHOT": str(path), "KPLEDGER_SNAPSHOT_EVERY": NEVER}
        cold, (answer, rss) = first_read(url, lot_id, token, env, READY_WITHIN)
        assert answer == expected, "the server's answer differs from the in-process replay's"
        replay = replay_s
        if server_replay:
            env = {"KPLEDGER_SNAPSHOT": "off"}
            replay, (answer, replay_rss) = first_read(url, lot_id, token, env, READY_WITHIN)
            assert answer == expected, "the server's full replay answers otherwise"
            facts |= {"server_replay_rss_mb": (replay_rss or 0) / 2**20}
    ledger.close()
    rss_mb = (rss or 0) / 2**20
    results += [
        Result(
            name="cold start to first read, full replay"
            + ("" if server_replay else " (in process, no server start)"),
            unit="s",
            ours=replay,
            baseline=float("nan"),
            target="report it",
            met=True,
        ),
        Result(
            name="cold start to first read, from a snapshot",
            unit="s",
            ours=cold,
            baseline=replay,
            target=">= 10x",
            met=replay / cold >= 10,
            notes={"speedup": replay / cold, "server_rss_mb": rss_mb},
        ),
        Result(
            name="server resident memory, from a snapshot",
            unit="bytes/lot",
            ours=(rss or 0) / facts["lots"],
            baseline=float("nan"),
            target="report it (24 GB machine)",
            met=rss is not None,
            notes={"server_rss_mb": rss_mb},
        ),
        Result(
            name="world generation",
            unit="documents/s",
            ours=facts["generation"]["documents"] / facts["generation"]["seconds"],
            baseline=float("nan"),
            target="report it",
            met=True,
            notes={"seconds": facts["generation"]["seconds"]},
        ),
    ]
    for result in results:
        result.notes |= facts
    return results
