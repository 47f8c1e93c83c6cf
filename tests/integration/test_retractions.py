"""document.retracted: a retracted document's world answers as if it was never posted.

Every test runs on SQLite and on PostgreSQL (the `ledger` fixture). The core property:
for every retractable type, a ledger that accepted the document and then its retraction
answers every read (lots, provenance, custody, downstream, graph, alerts, statistics,
compliance, search, certificates, operators) as a ledger that never accepted it, the
log positions aside (the two documents still take theirs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from ledger.actors import Actor
from ledger.application import Ledger
from ledger.errors import LedgerError
from projections.certificates import certificate_view
from projections.provenance import graph_json
from projections.reads import Reads
from tests.support import (
    INVESTIGATOR,
    SECRETARIAT,
    admitted,
    authority,
    batch,
    confirmed,
    doc,
    export,
    flagged,
    implemented,
    invited,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    licensed,
    merged,
    mine,
    produced,
    refuse,
    report,
    seized,
    site,
    split,
    transferred,
    visited,
)

GH, CI, AE = authority("GH"), authority("CI"), authority("AE")
NOW = datetime(2006, 3, 1, 12, 0, tzinfo=UTC)
Post = tuple[dict[str, Any], Actor]


def retraction(document: dict[str, Any], reason: str = "mistyped") -> dict[str, Any]:
    return doc("document.retracted", retracted_event_id=document["event_id"], reason=reason)


def certificate_status(reads: Reads, certificate_id: str) -> str:
    return str(_certificate(reads, certificate_id)["status"])


def reads_of(ledger: Ledger) -> Reads:
    return Reads(ledger, clock=lambda: NOW)


def base() -> list[Post]:
    """Three participants, a mine, a site, operators; three lots, one exported to AE."""
    return [
        (admitted("GH"), SECRETARIAT),
        (admitted("CI"), SECRETARIAT),
        (admitted("AE"), SECRETARIAT),
        (mine("GH-M1", "GH", region="Eastern"), GH),
        (site("CI-S1", "CI", region="North"), CI),
        (licensed("GH-OP1", "miner", "exporter", "dealer"), GH),
        (licensed("GH-OP2", "dealer"), GH),
        (produced("GH-L1", "GH-M1", "100"), GH),
        (produced("GH-L2", "GH-M1", "40"), GH),
        (produced("CI-L1", "CI-S1", "60"), CI),
        (export("CI-C1", "CI", "GH", ["CI-L1"], "60", declared_origin="CI"), CI),
        (report("GH", 2005), GH),
        (invited("R-GH-1", "GH"), GH),
    ]


def _without_positions(value: Any) -> Any:
    """The answer with every log position left out (both worlds number entries apart)."""
    if isinstance(value, dict):
        return {
            key: _without_positions(item)
            for key, item in value.items()
            if "position" not in key and key not in ("created_at", "as_of")
        }
    if isinstance(value, list):
        return [_without_positions(item) for item in value]
    return value


def _answer(read: Callable[[], Any]) -> Any:
    try:
        return _without_positions(read())
    except LedgerError as error:
        return ("refused", error.code)


def names(*ledgers: Ledger) -> dict[str, set[str]]:
    """The lots, certificates and sources the ledgers' logs name."""
    named: dict[str, set[str]] = {"lot": set(), "certificate": set(), "source": set()}
    for entry in (entry for ledger in ledgers for entry in ledger.read_log(0, 10_000)):
        document = entry.document
        for field in ("lot_id", "lot_ids", "into"):
            value = document.get(field)
            for item in value if isinstance(value, list) else [value]:
                key = item.get("lot_id") if isinstance(item, dict) else item
                if isinstance(key, str):
                    named["lot"].add(key)
        if "certificate_id" in document:
            named["certificate"].add(document["certificate_id"])
        for field in ("mine_id", "site_id"):
            if field in document:
                named["source"].add(document[field])
    return named


def _graph(reads: Reads, root: str) -> dict[str, Any]:
    return graph_json(reads.graph(root))


def _certificate(reads: Reads, certificate_id: str) -> dict[str, Any]:
    return reads.read(lambda view: certificate_view(view.custody, certificate_id, view.today))


def answers(reads: Reads, named: dict[str, set[str]]) -> dict[str, Any]:
    """A fixed list of reads of every lot, certificate and source `named`, of operators
    and participants, with positions left out."""
    found: dict[str, Any] = {}
    for lot_id in sorted(named["lot"] | {"GH-L9", "GH-L1a", "GH-L1b", "GH-MIX"}):
        found[f"lot {lot_id}"] = _answer(partial(reads.lot, lot_id))
        found[f"provenance {lot_id}"] = _answer(partial(reads.provenance, lot_id))
        found[f"custody {lot_id}"] = _answer(partial(reads.custody, lot_id))
        found[f"downstream {lot_id}"] = _answer(partial(reads.downstream, lot_id=lot_id))
        found[f"graph {lot_id}"] = _answer(partial(_graph, reads, lot_id))
    for source_id in sorted(named["source"] | {"GH-M1", "CI-S1", "GH-M2"}):
        found[f"downstream {source_id}"] = _answer(partial(reads.downstream, source_id=source_id))
    for participant in ("GH", "CI", "AE"):
        found[f"downstream {participant}"] = _answer(
            partial(reads.downstream, participant=participant)
        )
        found[f"compliance {participant}"] = _answer(partial(reads.compliance, 2005, participant))
    for operator_id in ("GH-OP1", "GH-OP2", "GH-OP3"):
        found[f"operator {operator_id}"] = _answer(partial(reads.operator, operator_id))
    for certificate_id in sorted(named["certificate"] | {"GH-C2"}):
        found[f"certificate {certificate_id}"] = _answer(
            partial(_certificate, reads, certificate_id)
        )
    found["alerts"] = _answer(lambda: reads.alerts())
    found["statistics"] = _answer(lambda: reads.with_statistics(lambda s: s.report(2005)))
    found["search GH"] = _answer(lambda: reads.search("GH", kind=None, limit=100, reader=None))
    found["participants"] = _answer(reads.participants)
    return found


def cancelled_taken_out(found: dict[str, Any], certificate_id: str) -> dict[str, Any]:
    """`found` (`answers` of a ledger whose export of `certificate_id` was retracted) without
    what stays readable of the cancelled certificate, having checked it: its read says
    `cancelled`, and search finds it (if "GH" starts its id) with the mark `cancelled`. A
    ledger that never had the export answers neither."""
    kept = dict(found)
    assert kept.pop(f"certificate {certificate_id}")["status"] == "cancelled"
    hits = kept["search GH"]
    listed = [hit for hit in hits if hit["kind"] == "certificate" and hit["id"] == certificate_id]
    assert [hit["risk"] for hit in listed] == (
        [["cancelled"]] if certificate_id.lower().startswith("gh") else []
    )
    kept["search GH"] = [hit for hit in hits if hit not in listed]
    return kept


def post_all(ledger: Ledger, posts: list[Post]) -> None:
    for document, actor in posts:
        ledger.post(document, actor)


def assert_as_if_never_posted(
    ledger: Ledger,
    other: Ledger,
    before: list[Post],
    retracted: Post,
    after: list[Post] = (),  # type: ignore[assignment]
    *,
    retracted_by: Actor | None = None,
) -> Reads:
    """Posts `before`, `retracted`, its retraction and `after` to `ledger`, and `before`
    and `after` to `other`; asserts both answer every read alike."""
    post_all(ledger, before)
    kept = reads_of(ledger)
    prior = answers(kept, names(ledger))  # read (and cached) before the retraction
    document, actor = retracted
    ledger.post(document, actor)
    ledger.post(retraction(document), retracted_by or actor)
    post_all(ledger, after)
    post_all(other, before + list(after))
    named = names(ledger, other)
    expected = answers(reads_of(other), named)
    fresh, followed = answers(reads_of(ledger), named), answers(kept, named)
    if document["type"] == "export.certified":  # a cancelled certificate stays readable
        certificate_id = document["certificate_id"]
        assert expected.pop(f"certificate {certificate_id}") == ("refused", "not_found")
        fresh = cancelled_taken_out(fresh, certificate_id)
        followed = cancelled_taken_out(followed, certificate_id)
    assert fresh == expected  # a fresh read model
    assert followed == expected  # one that followed the retraction
    if not after:
        position = ledger.head_position() - 2
        as_of_before = {
            key: _answer(partial(kept.lot, key.split()[1], as_of=position))
            for key in prior
            if key.startswith("lot ")
        }
        assert as_of_before == {
            key: value for key, value in prior.items() if key.startswith("lot ")
        }
    return kept


@pytest.fixture
def other(tmp_path: Any) -> Any:
    """A second ledger, on SQLite: the world in which the document was never posted."""
    world = Ledger.open(f"sqlite:///{tmp_path}/never.db")
    yield world
    world.close()


RETRACTABLE: dict[str, Callable[[], tuple[list[Post], Post]]] = {
    "lot.produced": lambda: ([], (produced("GH-L9", "GH-M1", "1600.00"), GH)),
    "lot.split": lambda: ([], (split("GH-L1", ("GH-L1a", "70"), ("GH-L1b", "30")), GH)),
    "lots.merged": lambda: ([], (merged(["GH-L1", "GH-L2"], "GH-MIX"), GH)),
    "lot.transferred": lambda: (
        [(transferred("GH-L1", "GH-OP2"), GH)],
        (transferred("GH-L1", "GH-OP1", value_usd="5000"), GH),
    ),
    "import.confirmed": lambda: ([], (confirmed("CI-C1", "60"), GH)),
    "lot.seized": lambda: ([], (seized("GH-L2"), GH)),
    "export.certified": lambda: (
        [],
        (export("GH-C9", "GH", "AE", ["GH-L2"], "40", declared_origin="GH"), GH),
    ),
    "mine.registered": lambda: ([], (mine("GH-M2", "GH"), GH)),
    "alluvial_site.registered": lambda: ([], (site("CI-S2", "CI"), CI)),
    "operator.licensed": lambda: ([], (licensed("GH-OP3", "dealer"), GH)),
    "report.submitted": lambda: ([], (report("CI", 2005), CI)),
    "review.invited": lambda: ([], (invited("R-CI-1", "CI"), CI)),
    "review.recommendation_implemented": lambda: (
        [(visited("R-GH-1", "REC-1"), SECRETARIAT)],
        (implemented("R-GH-1", "REC-1"), GH),
    ),
    "lot.flagged": lambda: ([], (flagged("GH-L1"), INVESTIGATOR)),
}


@pytest.mark.parametrize("kind", sorted(RETRACTABLE))
def test_a_retracted_document_answers_as_if_never_posted(
    ledger: Ledger, other: Ledger, kind: str
) -> None:
    more, retracted = RETRACTABLE[kind]()
    assert retracted[0]["type"] == kind
    assert_as_if_never_posted(ledger, other, base() + more, retracted)


def test_a_later_world_answers_as_if_never_posted(ledger: Ledger, other: Ledger) -> None:
    """The retraction and a corrected document, then more trade, against the world that
    only ever had the corrected one."""
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    world = base()
    post_all(ledger, [*world, (wrong, GH)])
    kept = reads_of(ledger)
    kept.catch_up()
    corrected = produced("GH-L9", "GH-M1", "160.00")
    later = [
        (split("GH-L9", ("GH-L9a", "100"), ("GH-L9b", "60")), GH),
        (merged(["GH-L9a", "GH-L1"], "GH-MIX"), GH),
        (export("GH-C2", "GH", "AE", ["GH-MIX"], "200", declared_origin="GH"), GH),
    ]
    ledger.post(batch(retraction(wrong), corrected), GH)
    post_all(ledger, later)
    post_all(other, [*world, (corrected, GH), *later])
    named = names(ledger, other)
    expected = answers(reads_of(other), named)
    assert answers(kept, named) == expected
    assert answers(reads_of(ledger), named) == expected
    assert kept.lot("GH-L9")["carats"] == "160.00"


def test_the_history_lists_both_documents_and_the_log_keeps_them(ledger: Ledger) -> None:
    post_all(ledger, base())
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    ledger.post(wrong, GH)
    position = ledger.head_position()
    fix = retraction(wrong)
    ledger.post(batch(fix, produced("GH-L9", "GH-M1", "160.00")), GH)
    reads = reads_of(ledger)
    events = reads.history("GH-L9")["events"]
    assert [(e["type"], e.get("retracted_by")) for e in events] == [
        ("lot.produced", position + 1),
        ("document.retracted", None),
        ("lot.produced", None),
    ]
    assert [e["position"] for e in events] == [position, position + 1, position + 2]
    log = ledger.read_log(position - 1, 10)
    assert [entry.type for entry in log] == ["lot.produced", "document.retracted", "lot.produced"]
    assert reads.with_proofs(lambda proofs: proofs.size) == ledger.head_position()
    assert reads.lot("GH-L9", as_of=position)["carats"] == "1600.00"
    assert reads.lot("GH-L9")["carats"] == "160.00"
    as_of = reads.history("GH-L9", as_of=position)["events"]
    assert [(e["type"], e.get("retracted_by")) for e in as_of] == [("lot.produced", None)]


def test_a_retracted_lot_id_is_reused_with_other_carats(ledger: Ledger) -> None:
    post_all(ledger, base())
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    ledger.post(wrong, GH)
    ledger.post(retraction(wrong), GH)
    reads = reads_of(ledger)
    with pytest.raises(LedgerError) as absent:
        reads.lot("GH-L9")
    assert absent.value.code == "not_found"
    refuse(ledger, split("GH-L9", ("A", "1"), ("B", "1")), GH, "unknown_lot")
    ledger.post(produced("GH-L9", "GH-M1", "16.50"), GH)
    assert reads.lot("GH-L9")["carats"] == "16.50"
    assert reads.provenance("GH-L9")["sources"][0]["carats"] == "16.50"
    ledger.post(split("GH-L9", ("GH-L9a", "10"), ("GH-L9b", "6.50")), GH)
    assert reads.lot("GH-L9a")["carats"] == "10.00"


def test_a_chain_is_undone_from_its_end_in_one_batch(ledger: Ledger, other: Ledger) -> None:
    world = base()
    post_all(ledger, world)
    post_all(other, world)
    chain = [
        produced("GH-L9", "GH-M1", "100"),
        split("GH-L9", ("GH-L9a", "60"), ("GH-L9b", "40")),
        merged(["GH-L9a", "GH-L2"], "GH-MIX"),
        export("GH-C9", "GH", "AE", ["GH-MIX"], "100", declared_origin="GH"),
    ]
    for document in chain:
        ledger.post(document, GH)
    refuse(ledger, retraction(chain[0]), GH, "retraction_blocked")
    ledger.post(batch(*(retraction(document) for document in reversed(chain))), GH)
    named = names(ledger, other)
    found, expected = answers(reads_of(ledger), named), answers(reads_of(other), named)
    assert expected.pop("certificate GH-C9") == ("refused", "not_found")
    assert cancelled_taken_out(found, "GH-C9") == expected


def test_a_certificate_whose_import_was_confirmed_cannot_be_retracted(ledger: Ledger) -> None:
    world = base()
    post_all(ledger, world)
    certified = world[10][0]
    assert certified["type"] == "export.certified"
    confirmation = confirmed("CI-C1", "60")
    ledger.post(confirmation, GH)
    error = refuse(ledger, retraction(certified), CI, "retraction_blocked")
    assert error.detail == {"blocking_position": ledger.head_position()}
    ledger.post(retraction(confirmation), GH)  # the confirmation first, then the export
    ledger.post(retraction(certified), CI)
    reads = reads_of(ledger)
    assert certificate_status(reads, "CI-C1") == "cancelled"
    assert reads.lot("CI-L1")["holder"] == "CI"
    assert reads.lot("CI-L1")["status"] == "held"
    refuse(ledger, confirmed("CI-C1", "60"), GH, "unknown_certificate")
    refuse(
        ledger,
        export("CI-C1", "CI", "GH", ["CI-L1"], "60", declared_origin="CI"),
        CI,
        "duplicate_id",
    )
    ledger.post(export("CI-C2", "CI", "GH", ["CI-L1"], "60", declared_origin="CI"), CI)


def test_a_retracted_confirmation_puts_the_certificate_back_in_transit(ledger: Ledger) -> None:
    post_all(ledger, base())
    confirmation = confirmed("CI-C1", "60")
    ledger.post(confirmation, GH)
    ledger.post(retraction(confirmation), GH)
    reads = reads_of(ledger)
    assert certificate_status(reads, "CI-C1") == "expired"  # unconfirmed, read in 2006
    assert reads.lot("CI-L1")["status"] == "in_transit"
    ledger.post(confirmed("CI-C1", "59.50"), GH)  # confirmed again, with the right figures
    assert certificate_status(reads, "CI-C1") == "confirmed"


def test_a_retracted_seizure_releases_the_lot(ledger: Ledger) -> None:
    post_all(ledger, base())
    seizure = seized("GH-L2")
    ledger.post(seizure, GH)
    refuse(ledger, split("GH-L2", ("A", "20"), ("B", "20")), GH, "lot_seized")
    ledger.post(retraction(seizure), GH)
    ledger.post(split("GH-L2", ("GH-L2a", "20"), ("GH-L2b", "20")), GH)
    assert reads_of(ledger).lot("GH-L2")["status"] == "consumed"


# -- every refusal once -----------------------------------------------------------------


def test_refusals(ledger: Ledger) -> None:
    world = base()
    post_all(ledger, world)
    produced_id = world[7][0]["event_id"]
    admitted_gh = world[0][0]["event_id"]
    by_id = {"retracted_event_id": produced_id, "reason": "x"}
    refuse(ledger, doc("document.retracted", **by_id), CI, "forbidden")  # not GH's authority
    refuse(ledger, doc("document.retracted", **by_id), INVESTIGATOR, "forbidden")
    refuse(ledger, doc("document.retracted", **by_id), authority("AE"), "forbidden")
    unknown = doc("document.retracted", retracted_event_id=doc("x")["event_id"], reason="x")
    refuse(ledger, unknown, GH, "unknown_document")
    not_retractable = doc("document.retracted", retracted_event_id=admitted_gh, reason="x")
    refuse(ledger, not_retractable, SECRETARIAT, "not_retractable")
    refuse(ledger, not_retractable, GH, "forbidden")  # the secretariat admitted GH
    ledger.post(split("GH-L1", ("GH-L1a", "50"), ("GH-L1b", "50")), GH)
    error = refuse(ledger, doc("document.retracted", **by_id), GH, "retraction_blocked")
    assert error.detail == {"blocking_position": ledger.head_position()}
    flag = flagged("GH-L2")
    ledger.post(flag, INVESTIGATOR)
    refuse(ledger, retraction(flag), Actor("investigator", "another investigator"), "forbidden")
    refuse(ledger, retraction(flag), SECRETARIAT, "forbidden")
    first = retraction(flag)
    ledger.post(first, INVESTIGATOR)
    refuse(ledger, retraction(flag), INVESTIGATOR, "already_retracted")
    refuse(ledger, retraction(first), INVESTIGATOR, "not_retractable")
    # already_retracted comes before any other 409, and a 403 before it
    refuse(ledger, retraction(flag), GH, "forbidden")
    # a 403 further on in a batch comes before a 409 earlier in it
    refuse(ledger, batch(unknown, doc("document.retracted", **by_id)), CI, "forbidden", index=1)


def test_a_snapshot_keeps_the_retractions_and_replay_agrees(ledger: Ledger, tmp_path: Any) -> None:
    """A read model restored from a snapshot taken after a retraction knows it: a later
    retraction rebuilds without both, as a full replay does; `kpledger replay`'s two
    digests agree."""
    from projections import snapshot
    from projections.replay import replay

    world = base()
    post_all(ledger, world)
    first, second = produced("GH-L9", "GH-M1", "1600.00"), flagged("GH-L1")
    ledger.post(first, GH)
    ledger.post(second, INVESTIGATOR)
    ledger.post(retraction(first), GH)
    reads = reads_of(ledger)
    reads.catch_up()
    path = tmp_path / "read.snapshot"
    assert snapshot.save(reads, path, ledger.store.description) is not None
    restored = reads_of(ledger)
    restored.restore(snapshot.load(path, ledger, ledger.store.description))
    ledger.post(retraction(second), INVESTIGATOR)
    named = names(ledger)
    assert answers(restored, named) == answers(reads_of(ledger), named)
    with pytest.raises(LedgerError):
        restored.lot("GH-L9")
    assert replay(ledger, ledger.head_position()).same
    assert replay(ledger, ledger.head_position() - 1).same


def test_the_demo_world_has_a_correction_and_a_cancelled_certificate(ledger: Ledger) -> None:
    from worlds.demo import CANCELLED_CERTIFICATE_ID, ORAPA_LOT_ID, VENETIA_LOT_ID, load_demo

    load_demo(ledger)
    reads = reads_of(ledger)
    assert reads.lot(ORAPA_LOT_ID)["carats"] == "160.00"
    history = reads.history(ORAPA_LOT_ID)["events"]
    assert [(e["type"], "retracted_by" in e) for e in history] == [
        ("lot.produced", True),
        ("document.retracted", False),
        ("lot.produced", False),
    ]
    assert history[0]["document"]["carats"] == "1600.00"
    assert history[0]["retracted_by"] == history[1]["position"]
    assert certificate_status(reads, CANCELLED_CERTIFICATE_ID) == "cancelled"
    assert reads.lot(VENETIA_LOT_ID)["holder"] == "ZA"
    assert reads.lot(VENETIA_LOT_ID)["status"] == "held"
    assert load_demo(ledger).appended == 0  # the retractions too are recognised as posted


def test_a_retracted_review_and_a_seizure_in_transit_by_the_importer(ledger: Ledger) -> None:
    """alert.reviewed is retracted by the investigator of the same name; a seizure in
    transit by the importing authority, by that authority."""
    from projections.alerts import alert_id

    world = base()
    post_all(ledger, world)
    reads = reads_of(ledger)
    ledger.attach_alert_check(reads.alert_exists)
    raised = alert_id("unconfirmed_certificate", "CI-C1")
    assert any(alert["alert_id"] == raised for alert in reads.alerts())
    review = doc("alert.reviewed", alert_id=raised, status="confirmed", note="checked")
    ledger.post(review, INVESTIGATOR)
    reviewed = {alert["alert_id"]: alert["review"] for alert in reads.alerts()}
    assert reviewed[raised]["status"] == "confirmed"
    refuse(ledger, retraction(review), SECRETARIAT, "forbidden")
    ledger.post(retraction(review), INVESTIGATOR)
    assert {alert["alert_id"]: alert["review"] for alert in reads.alerts()}[raised] is None
    seizure = seized("CI-L1")  # in transit to GH: the importer seizes it
    ledger.post(seizure, GH)
    refuse(ledger, retraction(seizure), AE, "forbidden")
    ledger.post(retraction(seizure), GH)
    assert reads.lot("CI-L1")["status"] == "in_transit"
    ledger.post(confirmed("CI-C1", "60"), GH)
    assert reads.lot("CI-L1")["holder"] == "GH"


def test_a_rebuild_starts_from_the_last_snapshot_when_it_can(
    ledger: Ledger, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retraction of a document posted after the last snapshot replays from the
    snapshot; one of a document before it, from the start. Both answer as a fresh model."""
    from projections import reads as reads_module
    from projections import retractions
    from projections.snapshot import Snapshots

    starts: list[int] = []
    rebuilt = retractions.rebuilt

    def spied(*args: Any) -> Any:
        start = args[4] if len(args) > 4 else None
        starts.append(start[0].position if start is not None else 0)
        return rebuilt(*args)

    monkeypatch.setattr(retractions, "rebuilt", spied)
    world = base()
    post_all(ledger, world)
    reads = reads_of(ledger)
    snapshots = Snapshots(reads, ledger.store, tmp_path / "read.snapshot")
    snapshots.start()
    saved = snapshots.save()
    assert saved is not None
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    ledger.post(wrong, GH)
    ledger.post(batch(retraction(wrong), produced("GH-L9", "GH-M1", "160.00")), GH)
    named = names(ledger)
    assert answers(reads, named) == answers(reads_of(ledger), named)
    assert starts == [saved.position, 0]  # and a fresh model, caught up in one page
    ledger.post(retraction(world[12][0]), GH)  # the review invited before the snapshot
    assert answers(reads, named) == answers(reads_of(ledger), named)
    assert starts == [saved.position, 0, 0, 0]
    snapshots.stop()
    # A long catch-up knows the retractions before it meets them: no rebuild at all.
    monkeypatch.setattr(reads_module, "_PAGE", 2)
    assert answers(reads_of(ledger), named) == answers(reads, named)
    assert starts == [saved.position, 0, 0, 0]


def test_a_log_with_retractions_imports_with_the_same_hashes(ledger: Ledger, other: Ledger) -> None:
    """kpledger import replays the retractions through the same rules: same positions and
    hashes, the same aggregates (a lot id freed and formed again)."""
    world = base()
    post_all(ledger, world)
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    ledger.post(wrong, GH)
    ledger.post(batch(retraction(wrong), produced("GH-L9", "GH-M1", "160.00")), GH)
    ledger.post(retraction(world[10][0]), CI)  # the export: its certificate cancelled
    entries = ledger.read_log(0, 1000)
    other.replay(entries[:16])
    other.replay(entries[16:])
    assert [e.hash for e in other.read_log(0, 1000)] == [e.hash for e in entries]
    named = names(ledger)
    assert answers(reads_of(other), named) == answers(reads_of(ledger), named)


def test_each_kind_of_dependency_blocks_at_the_first_dependent(ledger: Ledger) -> None:
    """A registration is blocked by the first document naming its source or operator, an
    export by a seizure of its lot, a confirmation by a use of its lot; each refusal names
    that document's position."""
    world = base()
    post_all(ledger, world)
    mine_gh, operator_1, certified = world[3][0], world[5][0], world[10][0]
    for retracted, actor, blocking in (
        (mine_gh, GH, "GH-L1"),  # produced at GH-M1
        (world[4][0], CI, "CI-L1"),  # produced at the site CI-S1
    ):
        error = refuse(ledger, retraction(retracted), actor, "retraction_blocked")
        produced_at = next(
            p
            for p, (d, _) in enumerate(world, start=1)
            if d["type"] == "lot.produced" and d["lot_id"] == blocking
        )
        assert error.detail == {"blocking_position": produced_at}
    ledger.post(produced("GH-L5", "GH-M1", "10", operator="GH-OP1"), GH)
    error = refuse(ledger, retraction(operator_1), GH, "retraction_blocked")
    assert error.detail == {"blocking_position": ledger.head_position()}
    ledger.post(seized("CI-L1"), GH)  # in transit to GH
    error = refuse(ledger, retraction(certified), CI, "retraction_blocked")
    assert error.detail == {"blocking_position": ledger.head_position()}


def test_a_review_invited_is_retracted_always_even_after_its_visit(
    ledger: Ledger, other: Ledger
) -> None:
    """`review.invited` is retractable always: after its visit and an implementation too.
    The reads answer as a ledger that never had the invitation (its visit and the
    implementation, which that ledger would have refused, count for nothing); the
    implementation can still be retracted, and the review id invited again afresh."""
    world = base()
    post_all(ledger, world)
    post_all(other, world[:-1])
    visit, done = visited("R-GH-1", "REC-1"), implemented("R-GH-1", "REC-1")
    ledger.post(visit, SECRETARIAT)
    ledger.post(done, GH)
    refuse(ledger, retraction(world[-1][0]), CI, "forbidden")
    ledger.post(retraction(world[-1][0]), GH)
    named = names(ledger, other)
    assert answers(reads_of(ledger), named) == answers(reads_of(other), named)
    refuse(ledger, retraction(world[-1][0]), GH, "already_retracted")
    ledger.post(retraction(done), GH)
    again = invited("R-GH-1", "GH")
    ledger.post(again, GH)
    other.post(again, GH)
    named = names(ledger, other)
    assert answers(reads_of(ledger), named) == answers(reads_of(other), named)
    review = reads_of(ledger).compliance(2005, "GH")
    assert "REC-1" not in str(review)


def test_an_investigator_retracts_what_investigators_posted_by_the_roles_of_names(
    ledger: Ledger,
) -> None:
    """`lot.flagged` may be posted by an investigator or the holder's authority: any
    investigator retracts an investigator's flag, any authority of the holder an
    authority's, never the other role; the log keeps the name, the tokens its role."""
    post_all(ledger, base())
    tokens = {
        name: ledger.create_token(role, name, participant)
        for name, role, participant in (
            ("inv-1", "investigator", None),
            ("inv-2", "investigator", None),
            ("gh-1", "authority", "GH"),
            ("gh-2", "authority", "GH"),
        )
    }
    actors = {name: ledger.actor_for_token(token) for name, token in tokens.items()}
    by_investigator, by_authority = flagged("GH-L1"), flagged("GH-L2")
    ledger.post(by_investigator, actors["inv-1"])
    ledger.post(by_authority, actors["gh-1"])
    refuse(ledger, retraction(by_investigator), actors["gh-2"], "forbidden")
    refuse(ledger, retraction(by_authority), actors["inv-2"], "forbidden")
    refuse(ledger, retraction(by_authority), CI, "forbidden")  # not the holder's authority
    ledger.post(retraction(by_investigator), actors["inv-2"])
    ledger.post(retraction(by_authority), actors["gh-2"])
    assert [entry.recorded_by for entry in ledger.read_log(0, 10_000)[-2:]] == ["inv-2", "gh-2"]
