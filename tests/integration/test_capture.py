"""Capture: atomic batches of 1 to 10,000 documents, positions, and idempotent retries."""

from __future__ import annotations

import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.availability import OutcomeUnknown
from ledger.documents import parse_json
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT
from tests.support import (
    INVESTIGATOR,
    SECRETARIAT,
    admitted,
    authority,
    basic_world,
    batch,
    confirmed,
    export,
    flagged,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    lot_state,
    merged,
    mine,
    produced,
    refuse,
    split,
)

GH, CI, AE = authority("GH"), authority("CI"), authority("AE")


def positions(ledger: Ledger) -> list[int]:
    return [entry.position for entry in ledger.read_log(0, 100_000)]


# ------------------------------------------------------------------------ batches


def test_a_batch_is_appended_whole_with_the_position_of_its_last_document(
    ledger: Ledger,
) -> None:
    basic_world(ledger)
    head = ledger.head_position()
    capture = ledger.post(
        batch(produced("GH-L2", "GH-M1", "5"), produced("GH-L3", "GH-M1", "6"), flagged("GH-L1")),
        GH,
    )
    assert (capture.accepted, capture.appended) == (3, True)
    assert capture.position == ledger.head_position()
    log = ledger.read_log(head, 10)
    assert [entry.type for entry in log] == ["lot.produced", "lot.produced", "lot.flagged"]
    assert log[-1].position == capture.position
    assert log[0].position > head and log[0].position < log[1].position < log[2].position


def test_a_single_document_is_a_batch_of_one(ledger: Ledger) -> None:
    capture = ledger.post(admitted("GH"), SECRETARIAT)
    assert (capture.accepted, capture.appended) == (1, True)
    assert capture.position == ledger.head_position() == positions(ledger)[-1]


def test_a_batch_with_one_faulty_document_appends_nothing_at_all(ledger: Ledger) -> None:
    basic_world(ledger)
    before = {lot: lot_state(ledger, lot) for lot in ("GH-L1", "GH-L2", "GH-A", "GH-X")}
    body = batch(
        produced("GH-L2", "GH-M1", "10"),
        split("GH-L1", ("GH-A", "40"), ("GH-B", "60")),
        merged(["GH-A", "GH-L2"], "GH-X"),
        export("GH-C1", "GH", "AE", ["GH-X"], "50"),
        export("GH-C2", "GH", "AE", ["GH-B"], "61"),  # mass_balance
    )
    refuse(ledger, body, GH, "mass_balance", index=4)
    assert {lot: lot_state(ledger, lot) for lot in before} == before
    # none of the earlier documents left a trace: each is accepted afresh
    assert ledger.post(produced("GH-L2", "GH-M1", "10"), GH).appended
    assert ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH).appended


def test_a_refused_batch_of_participants_admits_none_of_them(ledger: Ledger) -> None:
    body = batch(admitted("GH"), admitted("CI"), admitted("GH"))
    refuse(ledger, body, SECRETARIAT, "duplicate_id", index=2)
    assert ledger.head_position() == 0
    assert ledger.post(batch(admitted("GH"), admitted("CI")), SECRETARIAT).accepted == 2


def test_later_documents_of_a_batch_see_the_earlier_ones(ledger: Ledger) -> None:
    ledger.post(batch(admitted("GH"), admitted("AE")), SECRETARIAT)
    capture = ledger.post(
        batch(
            mine("GH-M1", "GH"),
            produced("GH-L1", "GH-M1", "100"),
            split("GH-L1", ("GH-A", "40"), ("GH-B", "60")),
            produced("GH-L2", "GH-M1", "0.5"),
            merged(["GH-A", "GH-L2"], "GH-X"),
            export("GH-C1", "GH", "AE", ["GH-X"], "40.5", declared_origin="GH"),
        ),
        GH,
    )
    assert capture.accepted == 6
    assert lot_state(ledger, "GH-L1")[0] == CONSUMED  # type: ignore[index]
    assert lot_state(ledger, "GH-X")[:3] == (IN_TRANSIT, "GH", Decimal("40.5"))  # type: ignore[index]
    assert lot_state(ledger, "GH-B")[:2] == (HELD, "GH")  # type: ignore[index]


def test_a_batch_sees_its_own_consumption(ledger: Ledger) -> None:
    basic_world(ledger)
    body = batch(
        split("GH-L1", ("GH-A", "40"), ("GH-B", "60")),
        split("GH-L1", ("GH-C", "40"), ("GH-D", "60")),
    )
    refuse(ledger, body, GH, "lot_consumed", index=1)
    assert lot_state(ledger, "GH-A") is None


def test_a_batch_may_not_create_one_id_twice(ledger: Ledger) -> None:
    basic_world(ledger)
    body = batch(produced("GH-L2", "GH-M1", "1"), produced("GH-L2", "GH-M1", "1"))
    refuse(ledger, body, GH, "duplicate_id", index=1)


@pytest.mark.parametrize("size", [0, 10_001])
def test_a_batch_holds_1_to_10000_documents(ledger: Ledger, size: int) -> None:
    basic_world(ledger)
    refuse(ledger, batch(*[flagged("GH-L1") for _ in range(size)]), INVESTIGATOR, "invalid")


BIG_BATCH = """
import sys
from ledger.application import Ledger
from tests.support import INVESTIGATOR, basic_world, batch, flagged

ledger = Ledger.open(sys.argv[1])
basic_world(ledger)
head = ledger.head_position()
capture = ledger.post(batch(*[flagged("GH-L1") for _ in range(10_000)]), INVESTIGATOR)
appended = len(ledger.read_log(head, 20_000))
print(capture.accepted, capture.position == ledger.head_position(), appended)
"""


def test_a_batch_of_10000_documents_is_accepted(store_url: str) -> None:
    """Run in a process of its own (on a store of its own), so that a hang fails the test
    after 30 s instead of blocking the suite."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", BIG_BATCH, store_url],
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("posting a batch of 10,000 documents did not return within 30 s")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["10000", "True", "10000"]


# -------------------------------------------------------------------- idempotency


def test_the_same_document_again_is_skipped_with_its_original_position(ledger: Ledger) -> None:
    basic_world(ledger)
    document = produced("GH-L2", "GH-M1", "10")
    first = ledger.post(document, GH)
    ledger.post(produced("GH-L3", "GH-M1", "1"), GH)
    head = ledger.head_position()
    again = ledger.post(dict(document), GH)
    assert again == type(again)(accepted=0, position=first.position, appended=False)
    assert ledger.head_position() == head


# ----------------------------------------------- the connection kept between appends


def _cut_connections(url: str) -> None:
    """Terminates every other connection to the database, and waits until they are gone
    (as a restart of PostgreSQL would leave the ledger's pooled ones)."""
    with psycopg.connect(url, autocommit=True) as admin:
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        assert pids, "the ledger's connections were there to be cut"
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
        while admin.execute(gone, [pids]).fetchone() != (0,):
            pass


def test_an_append_after_its_connection_broke_succeeds_once(store_url: str) -> None:
    """The connection an append kept from the last one, broken since, is replaced: the
    post succeeds, and nothing is appended twice."""
    ledger = Ledger.open(store_url)
    try:
        basic_world(ledger)
        ledger.post(produced("GH-L2", "GH-M1", "5"), GH)
        head = ledger.head_position()
        if store_url.startswith("postgresql"):
            _cut_connections(store_url)
        document = produced("GH-L3", "GH-M1", "6")
        capture = ledger.post(document, GH)
        assert (capture.accepted, capture.position, capture.appended) == (1, head + 1, True)
        assert ledger.post(dict(document), GH).appended is False
        log = ledger.read_log(0, 1000)
        assert [entry.position for entry in log] == list(range(1, head + 2))
        assert [entry.document["event_id"] for entry in log].count(document["event_id"]) == 1
        assert lot_state(ledger, "GH-L3") is not None
    finally:
        ledger.close()


def test_an_insert_whose_connection_broke_is_not_made_again(postgresql_url: str) -> None:
    """A connection lost during the insert leaves the outcome unknown: the post says so
    (503 `outcome_unknown`) and is not retried, on a kept connection as on a fresh one."""
    ledger = Ledger.open(postgresql_url)
    try:
        basic_world(ledger)
        with psycopg.connect(postgresql_url, autocommit=True) as admin:
            admin.execute(
                "CREATE SEQUENCE attempts; "
                "CREATE FUNCTION cut() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM nextval('attempts'); PERFORM pg_terminate_backend(pg_backend_pid()); "
                "PERFORM pg_sleep(5); RETURN NULL; END $$; "
                "CREATE TRIGGER cut BEFORE INSERT ON ledger_events "
                "FOR EACH STATEMENT EXECUTE FUNCTION cut()"
            )
            head = ledger.head_position()
            with pytest.raises(OutcomeUnknown):
                ledger.post(produced("GH-L2", "GH-M1", "5"), GH)
            assert admin.execute("SELECT last_value FROM attempts").fetchone() == (1,)
            admin.execute("DROP TRIGGER cut ON ledger_events")
        ledger.availability.probe()
        assert ledger.head_position() == head
    finally:
        ledger.close()


# ------------------------------------------- the aggregates kept between appends


def test_what_another_process_appended_is_seen_by_the_next_append(store_url: str) -> None:
    """A process checks a request against the aggregates it kept from its last append
    only when nobody appended since: another process's split, and a lot it created,
    are seen."""
    first, second = Ledger.open(store_url), Ledger.open(store_url)
    try:
        basic_world(first)
        second.post(split("GH-L1", ("GH-A", "40"), ("GH-B", "60")), GH)
        refuse(first, split("GH-L1", ("GH-C", "50"), ("GH-D", "50")), GH, "lot_consumed")
        refuse(first, produced("GH-A", "GH-M1", "1"), GH, "duplicate_id")
        assert first.post(split("GH-A", ("GH-C", "10"), ("GH-D", "30")), GH).appended
        assert first.post(produced("GH-L9", "GH-M1", "1"), GH).position == 10
        assert positions(second) == list(range(1, 11))
        assert lot_state(second, "GH-A") == lot_state(first, "GH-A")
        assert lot_state(first, "GH-A")[0] == CONSUMED  # type: ignore[index]
    finally:
        first.close()
        second.close()


def test_an_aggregate_the_process_has_not_seen_is_read_not_taken_as_absent(
    store_url: str,
) -> None:
    """Lots and sources another process created, never loaded by this one, exist for it."""
    writer = Ledger.open(store_url)
    basic_world(writer)
    writer.close()
    ledger = Ledger.open(store_url)
    try:
        assert ledger.post(produced("GH-L5", "GH-M1", "5"), GH).appended  # reads the head
        assert ledger.post(split("GH-L1", ("GH-A", "40"), ("GH-B", "60")), GH).appended
        assert ledger.post(flagged("CI-L1"), CI).appended
        assert ledger.post(produced("CI-L2", "CI-S1", "7"), CI).appended
        refuse(ledger, produced("CI-L1", "CI-S1", "1"), CI, "duplicate_id")
        refuse(ledger, produced("CI-L3", "CI-NONE", "1"), CI, "unknown_source")
        assert positions(ledger) == list(range(1, 12))
    finally:
        ledger.close()


def test_the_aggregates_kept_between_appends_are_the_stored_ones(store_url: str) -> None:
    """What a capturer keeps after its appends is what the store gives back."""
    ledger = Ledger.open(store_url)
    try:
        basic_world(ledger)
        refuse(ledger, split("GH-L1", ("GH-Y", "1"), ("GH-Z", "1")), GH, "mass_balance")
        ledger.post(batch(split("GH-L1", ("GH-A", "40"), ("GH-B", "60")), flagged("GH-B")), GH)
        ledger.post(merged(["GH-A", "GH-B"], "GH-X"), GH)
        ledger.post(export("GH-C1", "GH", "AE", ["GH-X"], "100"), GH)
        ledger.post(confirmed("GH-C1", "100"), AE)
        ledger.post(produced("GH-L2", "GH-M1", "3"), GH)
        kept = dict(ledger._capturer._aggregates)
        assert len(kept) >= 6
    finally:
        ledger.close()
    fresh = Ledger.open(store_url)
    try:
        for aggregate_id, aggregate in kept.items():
            assert vars(fresh.repository.get(aggregate_id)) == vars(aggregate), aggregate
    finally:
        fresh.close()


@pytest.mark.parametrize("carats_json", ['"1.00"', "1.00", '"1"', "1", '"1.0"', "1.0", '"01.0"'])
def test_carats_are_compared_as_parsed_values(ledger: Ledger, carats_json: str) -> None:
    basic_world(ledger)
    event_id = str(uuid.uuid4())
    template = (
        '{"event_id": "%s", "type": "lot.produced", "occurred_at": "2005-06-01T10:00:00Z",'
        ' "lot_id": "GH-L2", "source_id": "GH-M1", "carats": %s, "value_usd": %s}'
    )
    first = ledger.post(parse_json(template % (event_id, '"1.00"', '"1000"')), GH)
    head = ledger.head_position()
    again = ledger.post(parse_json(template % (event_id, carats_json, "1000.00")), GH)
    assert (again.appended, again.accepted, again.position) == (False, 0, first.position)
    assert ledger.head_position() == head


def test_the_event_id_is_compared_as_a_uuid(ledger: Ledger) -> None:
    basic_world(ledger)
    document = produced("GH-L2", "GH-M1", "10")
    first = ledger.post(document, GH)
    again = ledger.post({**document, "event_id": document["event_id"].upper()}, GH)
    assert (again.appended, again.position) == (False, first.position)


@pytest.mark.parametrize(
    ("field", "value"),
    [("carats", "10.01"), ("value_usd", "1001"), ("occurred_at", "2005-06-02T10:00:00Z")],
)
def test_an_event_id_reused_with_other_content_is_refused(
    ledger: Ledger, field: str, value: str
) -> None:
    basic_world(ledger)
    document = produced("GH-L2", "GH-M1", "10")
    ledger.post(document, GH)
    before = lot_state(ledger, "GH-L2")
    refuse(ledger, {**document, field: value}, GH, "event_id_reused")
    assert lot_state(ledger, "GH-L2") == before


def test_an_event_id_reused_for_another_type_is_refused(ledger: Ledger) -> None:
    basic_world(ledger)
    document = produced("GH-L2", "GH-M1", "10")
    ledger.post(document, GH)
    other = {**flagged("GH-L1"), "event_id": document["event_id"]}
    refuse(ledger, other, INVESTIGATOR, "event_id_reused")


def test_an_event_id_reused_inside_a_batch_is_refused_at_its_index(ledger: Ledger) -> None:
    basic_world(ledger)
    document = produced("GH-L2", "GH-M1", "10")
    ledger.post(document, GH)
    body = batch(produced("GH-L3", "GH-M1", "1"), {**document, "lot_id": "GH-L4"})
    refuse(ledger, body, GH, "event_id_reused", index=1)
    assert lot_state(ledger, "GH-L3") is None


def test_a_retry_is_skipped_even_when_it_would_now_break_a_rule(ledger: Ledger) -> None:
    basic_world(ledger)
    certificate = export("GH-C1", "GH", "AE", ["GH-L1"], "100")
    first = ledger.post(certificate, GH)
    ledger.post(confirmed("GH-C1", "100"), AE)
    again = ledger.post(certificate, GH)
    assert (again.appended, again.position) == (False, first.position)
    assert lot_state(ledger, "GH-L1")[:2] == (HELD, "AE")  # type: ignore[index]


def test_a_batch_made_only_of_old_documents_answers_the_original_last_position(
    ledger: Ledger,
) -> None:
    basic_world(ledger)
    documents = [produced(f"GH-N{n}", "GH-M1", "1") for n in range(3)]
    start = ledger.head_position()
    first = ledger.post(batch(*documents), GH)
    original = [entry.position for entry in ledger.read_log(start, 3)]
    ledger.post(produced("GH-L9", "GH-M1", "1"), GH)
    head = ledger.head_position()
    again = ledger.post(batch(*documents), GH)
    assert (again.appended, again.accepted, again.position) == (False, 0, first.position)
    only_the_first = ledger.post(batch(documents[0]), GH)
    assert only_the_first.position == original[0]
    assert ledger.post(batch(documents[1], documents[0]), GH).position == original[0]
    assert ledger.head_position() == head


def test_a_batch_mixing_old_and_new_documents_appends_only_the_new(ledger: Ledger) -> None:
    basic_world(ledger)
    old = produced("GH-L2", "GH-M1", "10")
    ledger.post(old, GH)
    head = ledger.head_position()
    new = produced("GH-L3", "GH-M1", "1")
    capture = ledger.post(batch(old, new), GH)
    assert (capture.appended, capture.accepted) == (True, 1)
    assert capture.position == ledger.head_position() > head
    assert [entry.document["lot_id"] for entry in ledger.read_log(head, 10)] == ["GH-L3"]


def test_a_batch_ending_with_an_old_document_answers_the_position_of_the_new_one(
    ledger: Ledger,
) -> None:
    """PROTOCOL: "P being the position of the last document appended"."""
    basic_world(ledger)
    old = produced("GH-L2", "GH-M1", "10")
    ledger.post(old, GH)
    head = ledger.head_position()
    capture = ledger.post(batch(produced("GH-L3", "GH-M1", "1"), old), GH)
    assert (capture.appended, capture.accepted) == (True, 1)
    assert [entry.document["lot_id"] for entry in ledger.read_log(head, 10)] == ["GH-L3"]
    assert capture.position == ledger.head_position()
