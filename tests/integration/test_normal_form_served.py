"""The normal form is the contract of a signature: for every document type, however its
sender spells it, what `kpledger sign` writes (`ledger.sender.sign_documents`) and the
normal form of what is posted are exactly what `GET /v1/events` serves (the entry's
`document`, from the store), on both stores. A property test over spellings."""

from __future__ import annotations

import re
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.actors import Actor
from ledger.documents import DOCUMENT_TYPES, parse_document
from ledger.files import Sourced
from ledger.keys import key_id_of, public_key_text
from ledger.normal import LEGACY_NULLS, normal_form
from ledger.sender import sign_documents
from tests.support import (
    INVESTIGATOR,
    SECRETARIAT,
    admitted,
    authority,
    confirmed,
    delisted,
    doc,
    embargo,
    export,
    flagged,
    implemented,
    invited,
    licensed,
    lifted,
    listed,
    merged,
    mine,
    operator_revoked,
    produced,
    quick_ledger,
    report,
    revoked,
    seized,
    site,
    split,
    suspended,
    transferred,
    visited,
)

GH, AE = authority("GH"), authority("AE")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
_AMOUNT = re.compile(r"^\d+\.\d\d$")
_AMOUNT_FIELDS = frozenset({"carats", "value_usd", "annual_capacity_carats"})


def every_type() -> list[tuple[Actor, dict[str, Any]]]:
    """A world that posts one document (at least) of every type, in an order it accepts."""
    public_key = public_key_text(KEY)
    registration = doc(
        "authority_key.registered", participant="GH", public_key=public_key, name="Ghana 2026"
    )
    note = flagged("GH-L1b", "investigator's note")
    world: list[tuple[Actor, dict[str, Any]]] = [
        (SECRETARIAT, admitted("GH")),
        (SECRETARIAT, admitted("AE")),
        (SECRETARIAT, admitted("CI")),
        (SECRETARIAT, registration),
        (GH, mine("GH-M1", "GH", annual_capacity_carats="5000")),
        (GH, site("GH-S1", "GH", valid_until="2030-12-31")),
        (GH, licensed("GH-OP1", "miner", "buyer")),
        (GH, licensed("GH-OP2", "buyer")),
        (GH, produced("GH-L1", "GH-M1", "100.5", "15000")),
        (GH, produced("GH-L2", "GH-S1", "20", "3000.25")),
        (GH, produced("GH-L3", "GH-M1", "7.25", "100")),
        (GH, split("GH-L1", ("GH-L1a", "60.25"), ("GH-L1b", "40.25"))),
        (GH, merged(["GH-L1a", "GH-L2"], "GH-L4", "18000")),
        (GH, transferred("GH-L3", "GH-OP1", "120.5")),
        (GH, export("GH-C1", "GH", "AE", ["GH-L4"], "80.25", value_usd="18000")),
        (AE, confirmed("GH-C1", "80.25", "17999.99")),
        (GH, flagged("GH-L1b")),
        (INVESTIGATOR, note),
        (GH, seized("GH-L1b")),
        (GH, revoked("GH-S1")),
        (GH, operator_revoked("GH-OP2")),
        (SECRETARIAT, listed("UN-1", "GH-OP2")),
        (SECRETARIAT, delisted("UN-1", "2006-01-01")),
        (SECRETARIAT, embargo("E-1", "CI", region="North")),
        (SECRETARIAT, embargo("E-2", "CI")),
        (SECRETARIAT, lifted("E-1", "2006-01-01")),
        (SECRETARIAT, suspended("CI")),
        (SECRETARIAT, doc("participant.reinstated", participant="CI")),
        (SECRETARIAT, doc("participant.withdrawn", participant="CI", reason="left")),
        (GH, report("GH", 2005)),
        (GH, invited("RV-GH", "GH")),
        (SECRETARIAT, visited("RV-GH", "1", "2")),
        (GH, implemented("RV-GH", "1")),
        (INVESTIGATOR, doc("alert.reviewed", alert_id="a1", status="open", note="looked")),
        (SECRETARIAT, doc("authority_key.revoked", key_id=key_id_of(public_key), reason="end")),
        (INVESTIGATOR, doc("document.retracted", retracted_event_id=note["event_id"], reason="x")),
    ]
    return world


def test_the_world_has_every_type() -> None:
    assert {document["type"] for _, document in every_type()} == set(DOCUMENT_TYPES)


def _respelled(value: Any, draw: Any, field: str = "") -> Any:
    """The same content spelled otherwise: amounts as JSON numbers or shorter text."""
    if isinstance(value, dict):
        return {name: _respelled(item, draw, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_respelled(item, draw, field) for item in value]
    if field in _AMOUNT_FIELDS and isinstance(value, str) and _AMOUNT.match(value):
        amount = Decimal(value)
        shortest = format(amount.normalize(), "f")  # "15000", "100.5"
        return draw(st.sampled_from([value, amount, Decimal(shortest), shortest]))
    return value


def _sent(raw: dict[str, Any], draw: Any) -> dict[str, Any]:
    """A way a sender may spell `raw` (normalized first, so that amounts are decimals)."""
    sent = _respelled(normal_form(parse_document(raw)), draw)
    event_id = uuid.UUID(sent["event_id"])
    sent["event_id"] = draw(
        st.sampled_from([str(event_id), str(event_id).upper(), "{" + str(event_id) + "}"])
    )
    sent["occurred_at"] = draw(
        st.sampled_from(["2005-06-01T10:00:00Z", "2005-06-01T10:00:00+00:00",
                         "2005-06-01T12:00:00.250+02:00", "2005-06-01T04:30-05:30"])
    )  # fmt: skip
    for optional in LEGACY_NULLS.get(sent["type"], ()):
        if optional not in sent and draw(st.booleans()):
            sent[optional] = None
    return sent


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_what_is_signed_and_normalized_is_what_is_served(kind: str, data: Any) -> None:
    world = [(actor, _sent(raw, data.draw)) for actor, raw in every_type()]
    expected = []
    with tempfile.TemporaryDirectory() as folder, quick_ledger(kind, Path(folder)) as ledger:
        ledger.attach_alert_check(lambda alert_id, on: True)  # any alert exists, for triage
        for actor, sent in world:
            if actor == GH:  # Ghana's authority signs, as kpledger sign does
                (signed,) = sign_documents([Sourced(1, sent)], KEY)
                expected.append(signed.document)
                sent = {**sent, "signature": signed.document["signature"]}
            else:
                expected.append(normal_form(parse_document(sent)))
            capture = ledger.post(sent, actor)
            assert capture.appended, (actor, sent)
        served = [entry.document for entry in ledger.read_log(0, 1000)]
    assert served == expected
    assert all(None not in document.values() for document in served)
