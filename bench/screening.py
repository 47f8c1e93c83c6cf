"""Sanctions screening: the blocking index against scoring every pair, and a reload.

    .venv/bin/python -m bench screening [--quick]

Generates a list of 20,000 listed companies (FollowTheMoney entities, as OpenSanctions
publishes them) and 10,000 operators (2,000 and 1,000 with `--quick`): names of made-up
proper words, the field's common words ("Diamond", "Trading", "Mining"...) and company
forms, a fifth of the entries with an alias; one operator in fifty is a listed company
under another form of its name (company form, case, word order, a typo, a word dropped).
In the same run, it times:

- ours: `projections.screening.screen`, every operator through the index (candidates
  blocked by name part, phonetic key, symbol and whole name), each candidate scored
  with nomenklatura's logic-v2;
- baseline: `screen_naively`, the same matcher over every (operator, entry) pair, on a
  sample of operators (it takes seconds per operator), extrapolated to all of them; the
  matches of the sampled operators must be equal both ways.

Then the time to reload the list (read, index, screen every operator) while a reader
thread reads the alerts' matches 100 times a second, with the reads' latency during the reload
against the same reads idle.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.common import Result, percentile
from projections.screening import (
    Index,
    Match,
    Screening,
    Subject,
    load_folder,
    screen,
    screen_naively,
)

THRESHOLD = 0.7
COMMON = [
    "Diamond", "Diamonds", "Gems", "Gem", "Mining", "Trading", "Minerals", "Gold", "Precious",
    "Stones", "Exports", "Exporters", "Holdings", "International", "Resources", "Rough",
    "Brokers", "Dealers", "Import", "Group", "General", "Alluvial",
]  # fmt: skip
FORMS = ["Ltd", "Limited", "SARL", "S.A.", "LLC", "GmbH", "FZE", "DMCC", "SPRL", "Co.", "Inc", ""]
COUNTRIES = ["ae", "ao", "be", "bw", "cd", "cf", "ci", "gh", "gn", "in", "lr", "ru", "sl", "za"]
SYLLABLES = [
    "ka", "ko", "ma", "mbo", "lu", "nda", "ri", "to", "sa", "be", "zi", "wa", "ngu", "ta",
    "mi", "ro", "le", "du", "fa", "ge", "hi", "jo", "ke", "nu", "po", "qui", "sho", "vu",
]  # fmt: skip


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _name(rng: random.Random) -> str:
    proper = [_word(rng) for _ in range(rng.randint(1, 2))]
    common = rng.sample(COMMON, rng.randint(1, 2))
    return " ".join([*proper, *common, rng.choice(FORMS)]).strip()


def _variant(rng: random.Random, name: str) -> str:
    """Another form of a listed name: a company form changed, case, word order, a typo in
    one of its longer words, or a common word dropped."""
    words = [word for word in name.split() if word not in FORMS]
    change = rng.choice(("form", "case", "order", "typo", "drop"))
    if change == "case":
        return name.upper()
    if change == "order" and len(words) > 2:
        words = [*words[1:], words[0]]
    elif change == "typo":
        long = [i for i, word in enumerate(words) if len(word) >= 6 and word not in COMMON]
        if long:
            i = rng.choice(long)
            at = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:at] + words[i][at + 1 :]
    elif change == "drop" and len(words) > 2:
        words.remove(next(word for word in reversed(words) if word in COMMON))
    return " ".join([*words, rng.choice(FORMS)]).strip()


def generate(
    entities: int, operators: int, seed: int
) -> tuple[list[dict[str, Any]], list[Subject]]:
    """FtM entity dicts of the list, and the operators (one in fifty a listed company)."""
    rng = random.Random(seed)
    listed: list[dict[str, Any]] = []
    for number in range(entities):
        properties = {"name": [_name(rng)], "country": [rng.choice(COUNTRIES)]}
        if rng.random() < 0.2:
            properties["alias"] = [_name(rng)]
        listed.append(
            {
                "id": f"bench-{number}",
                "schema": rng.choice(("Company", "Organization", "LegalEntity")),
                "properties": properties,
                "last_change": "2026-12-01T00:00:00",
            }
        )
    subjects = []
    for number in range(operators):
        participant = rng.choice(COUNTRIES).upper()
        if number % 50 == 0:
            entity = rng.choice(listed)
            name = _variant(rng, entity["properties"]["name"][0])
            participant = entity["properties"]["country"][0].upper()
        else:
            name = _name(rng)
        subjects.append(Subject(f"{participant}-OP-{number}", name, participant))
    return listed, subjects


def _keyed(found: list[Match]) -> list[tuple[str, str, float]]:
    return [(m.subject.operator_id, m.entry.key, round(m.score, 9)) for m in found]


def _state(subjects: list[Subject]) -> Any:
    """A stand-in for the read model's state: what `Screening.alerts_of` reads of it."""
    return SimpleNamespace(
        operators={
            s.operator_id: SimpleNamespace(
                operator_id=s.operator_id, name=s.name, participant=s.participant
            )
            for s in subjects
        }
    )


def _reload_while_reading(folder: Path, subjects: list[Subject]) -> Result:
    screening = Screening(folder, THRESHOLD, operators=lambda: subjects)
    screening.load()
    state = _state(subjects)
    rng = random.Random(1)

    def read() -> float:
        started = time.perf_counter()
        sum(1 for _ in screening.alerts_of(state))
        screening.possible_matches(rng.choice(subjects).operator_id)
        screening.lists()
        return time.perf_counter() - started

    idle = [read() for _ in range(200)]
    during: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def reader() -> None:  # a steady stream of reads, 100 a second, not a busy loop
        while not stop.wait(0.01):
            try:
                during.append(read())
            except Exception as error:  # counted, never hidden
                failures.append(repr(error))

    generation = screening.generation
    thread = threading.Thread(target=reader)
    thread.start()
    started = time.perf_counter()
    screening.reload_in_background()
    screening.wait_for_reload()
    reload_s = time.perf_counter() - started
    stop.set()
    thread.join()
    swapped = screening.generation == generation + 1
    ours, baseline = percentile(during, 0.95) * 1000, percentile(idle, 0.95) * 1000
    return Result(
        "sanctions list reload, reads meanwhile",
        "ms p95 read",
        ours,
        baseline,
        "reads go on, swapped whole",
        bool(during) and not failures and swapped,
        {
            "reload_s": round(reload_s, 2),
            "reads_during_reload": len(during),
            "read_failures": failures[:3],
            "max_read_ms_during": round(max(during, default=0) * 1000, 2),
            "operators": len(subjects),
            "entries": len(screening._current.index),
        },
    )


def run(
    entities: int = 20_000, operators: int = 10_000, sample: int = 12, seed: int = 0
) -> list[Result]:
    """The screening benchmark and the reload benchmark (see the module's docstring)."""
    listed, subjects = generate(entities, operators, seed)
    with tempfile.TemporaryDirectory(prefix="kpledger-bench-lists-") as directory:
        folder = Path(directory)
        with (folder / "bench_list.ftm.json").open("w") as out:
            out.writelines(json.dumps(entity) + "\n" for entity in listed)
        started = time.perf_counter()
        lists = load_folder(folder)
        loaded_s = time.perf_counter() - started
        started = time.perf_counter()
        index = Index.build(lists.values())
        index_s = time.perf_counter() - started
        screen(subjects[:5], index, THRESHOLD)  # the matcher's import and caches warmed

        started = time.perf_counter()
        found = screen(subjects, index, THRESHOLD)
        ours_s = time.perf_counter() - started

        rng = random.Random(seed)
        planted = [s for number, s in enumerate(subjects) if number % 50 == 0]
        others = [s for number, s in enumerate(subjects) if number % 50]
        sampled = rng.sample(planted, min(sample // 2, len(planted)))
        sampled += rng.sample(others, min(sample - len(sampled), len(others)))
        started = time.perf_counter()
        naive = screen_naively(sampled, index, THRESHOLD)
        naive_s = time.perf_counter() - started
        chosen = {s.operator_id for s in sampled}
        indexed = [m for m in found if m.subject.operator_id in chosen]
        order = {s.operator_id: n for n, s in enumerate(sampled)}
        indexed.sort(key=lambda m: order[m.subject.operator_id])
        equal = _keyed(indexed) == _keyed(naive)

        ours = len(subjects) / ours_s
        baseline = len(sampled) / naive_s
        candidates = sum(len(index.candidates(_proxy(s))) for s in subjects[:500]) / min(
            500, len(subjects)
        )
        matched_planted = {m.subject.operator_id for m in found} & {s.operator_id for s in planted}
        screening_result = Result(
            f"screening {len(subjects):,} operators x {len(index):,} listed companies",
            "operators/s",
            ours,
            baseline,
            ">= 20x",
            ours >= 20 * baseline and equal,
            {
                "seconds": round(ours_s, 1),
                "naive_seconds_estimated": round(len(subjects) / baseline, 0),
                "naive_sampled_operators": len(sampled),
                "answers_equal_on_sample": equal,
                "matches": len(found),
                "planted_matched": f"{len(matched_planted)}/{len(planted)}",
                "candidates_per_operator": round(candidates, 1),
                "common_keys": len(index.common),
                "list_load_s": round(loaded_s, 2),
                "index_build_s": round(index_s, 2),
            },
        )
        print(
            f"screening: {ours_s:.1f} s indexed; naive {naive_s:.1f} s for {len(sampled)} "
            f"operators; equal on the sample: {equal}",
            flush=True,
        )
        return [screening_result, _reload_while_reading(folder, subjects)]


def _proxy(subject: Subject) -> Any:
    from projections.screening import subject_proxy

    return subject_proxy(subject)


__all__ = ["generate", "run"]
