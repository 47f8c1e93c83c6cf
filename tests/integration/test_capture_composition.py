"""A property of the whole write side: random sequences of produce / split / merge / ship /
confirm posted through Ledger.post (on SQLite) keep every lot's composition summing
exactly to its carats, and every source's carats conserved over the lots not consumed."""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.lots import Lot
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    batch,
    confirmed,
    export,
    merged,
    mine,
    produced,
    split,
)

PARTICIPANTS = ("GH", "CI", "AE")
SOURCES = {f"{code}-M1": code for code in PARTICIPANTS}


def carats_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class ModelLot:
    holder: str
    cents: int
    status: str = HELD


@dataclass
class Model:
    """What the ledger should hold, kept by the test independently of the ledger."""

    lots: dict[str, ModelLot] = field(default_factory=dict)
    produced: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    pending: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    serial: int = 0

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def held(self, holder: str | None = None) -> list[str]:
        return [
            lot_id
            for lot_id, lot in self.lots.items()
            if lot.status == HELD and (holder is None or lot.holder == holder)
        ]


def step(ledger: Ledger, model: Model, data: st.DataObject) -> None:
    """Draws one operation that the model says is valid, posts it, and updates the model."""
    operation = data.draw(
        st.sampled_from(["produce", "split", "merge", "ship", "confirm", "bad_split"])
    )
    if operation == "produce" or not model.held():
        source = data.draw(st.sampled_from(sorted(SOURCES)))
        cents = data.draw(st.integers(min_value=1, max_value=100_000))
        lot_id = model.new_id("L")
        holder = SOURCES[source]
        post(ledger, produced(lot_id, source, carats_text(cents)), holder)
        model.lots[lot_id] = ModelLot(holder, cents)
        model.produced[source] += cents
    elif operation in ("split", "bad_split"):
        candidates = [lot_id for lot_id in model.held() if model.lots[lot_id].cents >= 2]
        if not candidates:
            return
        lot_id = data.draw(st.sampled_from(candidates))
        lot = model.lots[lot_id]
        count = data.draw(st.integers(min_value=2, max_value=min(4, lot.cents)))
        cuts = sorted(
            data.draw(
                st.sets(
                    st.integers(min_value=1, max_value=lot.cents - 1),
                    min_size=count - 1,
                    max_size=count - 1,
                )
            )
        )
        bounds = [0, *cuts, lot.cents]
        sizes = [high - low for low, high in itertools.pairwise(bounds)]
        children = [model.new_id("S") for _ in sizes]
        if operation == "bad_split":
            sizes[-1] += 1
            refused(
                ledger,
                split(lot_id, *zip(children, map(carats_text, sizes), strict=True)),
                lot.holder,
                "mass_balance",
            )
            return
        post(
            ledger, split(lot_id, *zip(children, map(carats_text, sizes), strict=True)), lot.holder
        )
        lot.status = CONSUMED
        for child, cents in zip(children, sizes, strict=True):
            model.lots[child] = ModelLot(lot.holder, cents)
    elif operation == "merge":
        holders = [code for code in PARTICIPANTS if len(model.held(code)) >= 2]
        if not holders:
            return
        holder = data.draw(st.sampled_from(holders))
        lot_ids = data.draw(
            st.lists(st.sampled_from(model.held(holder)), min_size=2, max_size=3, unique=True)
        )
        into = model.new_id("M")
        post(ledger, merged(lot_ids, into), holder)
        for lot_id in lot_ids:
            model.lots[lot_id].status = CONSUMED
        model.lots[into] = ModelLot(holder, sum(model.lots[lot_id].cents for lot_id in lot_ids))
    elif operation == "ship":
        lot_id = data.draw(st.sampled_from(model.held()))
        holder = model.lots[lot_id].holder
        lot_ids = [lot_id, *[other for other in model.held(holder) if other != lot_id][:1]]
        importer = data.draw(st.sampled_from([code for code in PARTICIPANTS if code != holder]))
        certificate_id = model.new_id(f"{holder}-C")
        cents = sum(model.lots[each].cents for each in lot_ids)
        post(ledger, export(certificate_id, holder, importer, lot_ids, carats_text(cents)), holder)
        for each in lot_ids:
            model.lots[each].status = IN_TRANSIT
        model.pending[certificate_id] = (importer, lot_ids)
    elif operation == "confirm" and model.pending:
        certificate_id = data.draw(st.sampled_from(sorted(model.pending)))
        importer, lot_ids = model.pending.pop(certificate_id)
        cents = sum(model.lots[each].cents for each in lot_ids)
        post(ledger, confirmed(certificate_id, carats_text(cents)), importer)
        for each in lot_ids:
            model.lots[each].status = HELD
            model.lots[each].holder = importer


def post(ledger: Ledger, document: dict[str, Any], participant: str) -> None:
    capture = ledger.post(document, authority(participant))
    assert capture.appended, document


def refused(ledger: Ledger, document: dict[str, Any], participant: str, code: str) -> None:
    head = ledger.head_position()
    with pytest.raises(LedgerError) as caught:
        ledger.post(document, authority(participant))
    assert caught.value.code == code
    assert ledger.head_position() == head


def check(ledger: Ledger, model: Model) -> None:
    held_by_source = dict.fromkeys(SOURCES, Fraction(0))
    for lot_id, expected in model.lots.items():
        lot = ledger.repository.get(Lot.create_id(lot_id))
        assert lot.carats == Decimal(expected.cents) / 100, lot_id
        assert sum(lot.composition.values(), Fraction(0)) == Fraction(lot.carats), lot_id
        assert all(carats > 0 for carats in lot.composition.values()), lot_id
        assert (lot.status, lot.holder) == (expected.status, expected.holder), lot_id
        if lot.status != CONSUMED:
            for source, carats in lot.composition.items():
                held_by_source[source] += carats
    assert held_by_source == {
        source: Fraction(cents, 100) for source, cents in model.produced.items()
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_compositions_sum_to_carats_and_sources_are_conserved(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger.open(f"sqlite:///{Path(folder) / 'ledger.db'}")
        try:
            ledger.post(batch(*[admitted(code) for code in PARTICIPANTS]), SECRETARIAT)
            for source, code in SOURCES.items():
                ledger.post(mine(source, code), authority(code))
            model = Model()
            for _ in range(data.draw(st.integers(min_value=5, max_value=30))):
                step(ledger, model, data)
            check(ledger, model)
        finally:
            ledger.close()
