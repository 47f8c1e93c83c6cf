"""The generator's operators: none asked for, the world of before; some, a valid world on
each store where lots are sold, exported and imported by operators, and one is listed."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from ledger.application import Ledger
from projections.reads import Reads
from tests.integration.test_generate import recorded
from worlds.generate import generate

# sha256 of recorded(lots=2000, seed=7).posted at commit 10385ec, before operators existed,
# in event_id order (bd7fc9b gave the same; the generator posts in another order since)
WORLD_OF_BEFORE = "bbeb408181aa11e9ba1795fceb61080f4514bd71f4096f154312ca2f6f3a4f56"


def test_without_operators_the_world_is_the_one_of_before() -> None:
    """Operators draw from a random stream of their own, as Annex I's parcels do: without
    operators, and but for the parcels counted since, the world is the same."""
    posted = [
        (poster, {key: value for key, value in document.items() if key != "parcels"})
        for poster, document in recorded(lots=2000, seed=7).posted
    ]
    posted.sort(key=lambda pair: pair[1]["event_id"])
    digest = hashlib.sha256(json.dumps(posted, sort_keys=True).encode()).hexdigest()
    assert (len(posted), digest) == (3038, WORLD_OF_BEFORE)


def test_operators_are_licensed_in_proportion_to_the_trade() -> None:
    posted = [document for _, document in recorded(lots=500, seed=1, operators=200).posted]
    licensed = Counter(d["participant"] for d in posted if d["type"] == "operator.licensed")
    assert sum(licensed.values()) == 200
    assert licensed["RU"] > licensed["GH"] and licensed["EU"] > licensed["LS"]


def test_a_world_with_operators_is_accepted_and_names_them(ledger: Ledger) -> None:
    report = generate(ledger, lots=1500, seed=4, operators=40, progress=False)
    documents = [entry.document for entry in ledger.read_log(0, report.documents)]
    assert len(documents) == report.documents
    kinds = Counter(document["type"] for document in documents)
    assert kinds["operator.licensed"] == 40 and kinds["sanction.listed"] >= 1
    assert kinds["lot.transferred"] > 0
    assert any("operator" in d for d in documents if d["type"] == "lot.produced")
    assert any("operator_id" in d["exporter"] for d in documents if d["type"] == "export.certified")
    assert any("operator_id" in d for d in documents if d["type"] == "import.confirmed")
    found = Counter(alert["type"] for alert in Reads(ledger).alerts())
    assert found["sanctioned_party"] >= 1
