"""Version 1 documents are stored exactly as before operators were added.

`tests/data/v1_log.jsonl` was exported by the ledger at commit 10385ec, before version
2's optional fields existed: every version 1 document type but `lot.seized` (whose
event records the acting participant, which no import replays), with the hash of
each entry over the document's digest and the digest of every aggregate event stored
with it. Importing it replays
every document through today's rules and must reproduce every hash: the stored forms
of the documents and of their aggregates' events are byte-identical.
"""

from __future__ import annotations

from pathlib import Path

from ledger.application import Ledger
from ledger.audit import import_log, verify
from ledger.documents import normalize, parse_document
from ledger.lots import Lot
from ledger.normal import is_stored_form, legacy_form
from tests.support import authority

V1_LOG = Path(__file__).parent.parent / "data" / "v1_log.jsonl"


def test_a_version_1_log_imports_with_every_hash_reproduced(ledger: Ledger) -> None:
    lines = V1_LOG.read_text(encoding="utf-8").splitlines()
    checked = import_log(ledger, lines)
    assert checked.events == len(lines) == ledger.head_position()
    verification = verify(ledger)
    assert verification.ok and verification.head == checked.head
    lot: Lot = ledger.repository.get(Lot.create_id("GH-X"))
    assert lot.operator is None


def test_a_version_1_document_normalizes_without_the_optional_operator_fields() -> None:
    import json

    for line in V1_LOG.read_text(encoding="utf-8").splitlines():
        stored = json.loads(line)["document"]
        again = normalize(parse_document(stored))
        assert is_stored_form(stored, parse_document(stored))
        # version 3's normal form leaves out the optional fields versions 1 and 2 wrote as
        # null; every other document normalizes exactly as it was stored
        assert (legacy_form(again) or again) == stored
        assert None not in again.values()
        assert "operator" not in again and "operator_id" not in again
        assert "operator_id" not in again.get("exporter", {})


def test_a_version_1_document_resent_in_the_normal_form_is_skipped(ledger: Ledger) -> None:
    import json

    lines = V1_LOG.read_text(encoding="utf-8").splitlines()
    import_log(ledger, lines)
    head = ledger.head_position()
    with_nulls = [json.loads(line) for line in lines if "null" in line]
    assert with_nulls
    for entry in with_nulls:
        resent = normalize(parse_document(entry["document"]))
        assert resent != entry["document"]
        capture = ledger.capture([parse_document(resent)], authority(resent["participant"]))
        assert (capture.appended, capture.position) == (False, entry["position"])
    assert ledger.head_position() == head
