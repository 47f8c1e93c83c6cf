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
from ledger.log import document_digest
from ledger.lots import Lot

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
        assert again == stored
        assert document_digest(again) == document_digest(stored)
        assert "operator" not in again and "operator_id" not in again
        assert "operator_id" not in again.get("exporter", {})
