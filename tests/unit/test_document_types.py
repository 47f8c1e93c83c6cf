"""One document type, one place: the protocol's types, the write side's handlers and the
read side's apply functions are the same set; stored event topics never move."""

from __future__ import annotations

import re
from pathlib import Path

from eventsourcing.utils import get_topic

from ledger.certificates import Certificate
from ledger.documents import DOCUMENT_TYPES, HANDLING
from ledger.lots import Lot
from ledger.participants import EmbargoRegister, Participant
from ledger.sources import Source
from projections.reads import applied_types

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"


def protocol_types() -> set[str]:
    """The types of the protocol's document tables: the first column's `a.b` names."""
    text = PROTOCOL.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", text, flags=re.MULTILINE))


def test_the_protocol_lists_document_types() -> None:
    assert {"lot.produced", "export.certified", "participant.admitted"} <= protocol_types()


def test_every_protocol_type_has_one_handler_and_one_apply_function() -> None:
    handled = {handling.name for handling in HANDLING.values()}
    assert handled == set(DOCUMENT_TYPES)
    assert set(applied_types()) == handled
    assert handled == protocol_types()


def test_each_handler_is_declared_for_its_own_model() -> None:
    for model, handling in HANDLING.items():
        assert handling.model is model
        assert DOCUMENT_TYPES[handling.name] is model


def test_stored_topics_are_those_the_events_were_first_stored_under() -> None:
    """Moving an aggregate to another module must not move its stored topics."""
    assert get_topic(Lot) == "ledger.lot:Lot"
    assert get_topic(Lot.Formed) == "ledger.lot:Lot.Formed"
    assert get_topic(Lot.Seized) == "ledger.lot:Lot.Seized"
    assert get_topic(Participant.Readmitted) == "ledger.participant:Participant.Readmitted"
    assert get_topic(Source.LicenceRevoked) == "ledger.source:Source.LicenceRevoked"
    assert get_topic(Certificate.ImportConfirmed) == (
        "ledger.certificate:Certificate.ImportConfirmed"
    )
    assert get_topic(EmbargoRegister.Lifted) == "ledger.embargo:EmbargoRegister.Lifted"
