"""Racing writers on one store: two Ledger instances in threads (each with connections of
its own), and two `kpledger serve` processes over HTTP, on each store. Exactly one of two
conflicting requests wins (two exports, two splits, a transfer and an export of one lot);
the other gets a 409; never both, never another error."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from ledger.application import Capture, Ledger
from ledger.errors import LedgerError
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT
from tests.support import (
    admitted,
    authority,
    basic_world,
    batch,
    export,
    licensed,
    lot_operator,
    lot_state,
    mine,
    produced,
    split,
    transferred,
)

GH = authority("GH")
ROUNDS = 5


@pytest.fixture
def two_ledgers(store_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    """Two independent Ledger instances on one fresh store."""
    first = Ledger.open(store_url)
    second = Ledger.open(store_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs the calls in threads released together; returns each result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except BaseException as error:  # the test inspects every outcome
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing request never returned"
    return outcomes


def one_winner(outcomes: list[Any], *codes: str) -> int:
    """Asserts one appended Capture and one 409 LedgerError with one of `codes`; returns the
    winner's index."""
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, Capture) and o.appended]
    losers = [o for o in outcomes if isinstance(o, LedgerError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].code in codes and losers[0].status == 409, losers[0]
    return winners[0]


def log_types(ledger: Ledger, after: int) -> list[str]:
    return [entry.type for entry in ledger.read_log(after, 1000)]


def test_two_exports_of_one_lot_race_and_one_wins(two_ledgers: tuple[Ledger, Ledger]) -> None:
    first, second = two_ledgers
    basic_world(first)
    for n in range(ROUNDS):
        first.post(produced(f"GH-R{n}", "GH-M1", "10"), GH)
        head = second.head_position()
        certificates = [
            export(f"GH-C{n}{suffix}", "GH", "AE", [f"GH-R{n}"], "10") for suffix in "ab"
        ]
        outcomes = race(
            [
                partial(first.post, certificates[0], GH),
                partial(second.post, certificates[1], GH),
            ]
        )
        winner = one_winner(outcomes, "lot_in_transit", "lot_not_held")
        assert log_types(first, head) == ["export.certified"]
        status, _, _, certificate_id, _ = lot_state(second, f"GH-R{n}")  # type: ignore[misc]
        assert (status, certificate_id) == (IN_TRANSIT, f"GH-C{n}{'ab'[winner]}")


def test_two_splits_of_one_lot_race_and_one_wins(two_ledgers: tuple[Ledger, Ledger]) -> None:
    first, second = two_ledgers
    basic_world(first)
    for n in range(ROUNDS):
        first.post(produced(f"GH-R{n}", "GH-M1", "10"), GH)
        head = first.head_position()
        splits = [
            split(f"GH-R{n}", (f"GH-R{n}{side}1", "4"), (f"GH-R{n}{side}2", "6")) for side in "ab"
        ]
        outcomes = race([partial(first.post, splits[0], GH), partial(second.post, splits[1], GH)])
        winner = one_winner(outcomes, "lot_consumed")
        assert log_types(second, head) == ["lot.split"]
        assert lot_state(first, f"GH-R{n}")[0] == CONSUMED  # type: ignore[index]
        loser = "ab"[1 - winner]
        assert lot_state(first, f"GH-R{n}{loser}1") is None


def _sale_and_export(lot_id: str, certificate_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A transfer of the lot from GH-OP1 to GH-OP2, and its export by GH-OP1: whichever is
    appended first, the other is refused (in transit; no longer GH-OP1's)."""
    certificate = export(certificate_id, "GH", "AE", [lot_id], "10", declared_origin="GH")
    certificate["exporter"]["operator_id"] = "GH-OP1"
    return transferred(lot_id, "GH-OP2"), certificate


def test_a_transfer_and_an_export_of_one_lot_race_and_one_wins(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    basic_world(first)
    first.post(batch(licensed("GH-OP1", "miner", "exporter"), licensed("GH-OP2", "dealer")), GH)
    for n in range(ROUNDS):
        lot = f"GH-T{n}"
        first.post(produced(lot, "GH-M1", "10", operator="GH-OP1"), GH)
        head = second.head_position()
        sale, certificate = _sale_and_export(lot, f"GH-CT{n}")
        ledgers = (first, second) if n % 2 else (second, first)
        outcomes = race(
            [partial(ledgers[0].post, sale, GH), partial(ledgers[1].post, certificate, GH)]
        )
        winner = one_winner(outcomes, "lot_in_transit", "lot_not_held")
        assert log_types(first, head) == [("lot.transferred", "export.certified")[winner]]
        status = lot_state(second, lot)[0]  # type: ignore[index]
        assert (status, lot_operator(first, lot)) == (
            (HELD, "GH-OP2") if winner == 0 else (IN_TRANSIT, "GH-OP1")
        )


def test_two_productions_of_one_lot_id_race_and_one_wins(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    basic_world(first)
    for n in range(ROUNDS):
        head = first.head_position()
        outcomes = race(
            [
                partial(first.post, produced(f"GH-D{n}", "GH-M1", "1"), GH),
                partial(second.post, produced(f"GH-D{n}", "GH-M1", "2"), GH),
            ]
        )
        one_winner(outcomes, "duplicate_id")
        assert log_types(first, head) == ["lot.produced"]


def test_the_same_document_posted_twice_at_once_is_appended_once(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    basic_world(first)
    for n in range(ROUNDS):
        head = first.head_position()
        document = produced(f"GH-S{n}", "GH-M1", "1")
        outcomes = race([partial(first.post, document, GH), partial(second.post, document, GH)])
        assert all(isinstance(outcome, Capture) for outcome in outcomes), outcomes
        assert sorted(outcome.appended for outcome in outcomes) == [False, True]
        assert outcomes[0].position == outcomes[1].position == first.head_position()
        assert log_types(first, head) == ["lot.produced"]


def test_racing_batches_of_independent_documents_are_all_appended(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    basic_world(first)
    head = first.head_position()
    size = 30  # 90 stored rows a batch: large enough to be inserted by COPY
    outcomes = race(
        [
            partial(
                first.post, batch(*[produced(f"GH-A{n}", "GH-M1", "1") for n in range(size)]), GH
            ),
            partial(
                second.post, batch(*[produced(f"GH-B{n}", "GH-M1", "1") for n in range(size)]), GH
            ),
        ]
    )
    assert all(isinstance(o, Capture) and o.accepted == size for o in outcomes), outcomes
    log = first.read_log(head, 1000)
    assert len(log) == 2 * size
    assert max(o.position for o in outcomes) == log[-1].position
    # each batch is contiguous: never interleaved with the other
    lots = [entry.document["lot_id"][:4] for entry in log]
    assert lots in (["GH-A"] * size + ["GH-B"] * size, ["GH-B"] * size + ["GH-A"] * size)


@pytest.mark.parametrize("size", [1, 30])
def test_a_writer_whose_head_another_moved_appends_after_it(
    two_ledgers: tuple[Ledger, Ledger], size: int
) -> None:
    """Each process remembers the head it appended last; another's appends make it stale."""
    first, second = two_ledgers
    basic_world(first)
    for round_ in range(3):
        for name, ledger in (("F", first), ("S", second)):
            lots = [produced(f"GH-{name}{round_}-{n}", "GH-M1", "1") for n in range(size)]
            capture = ledger.post(batch(*lots), GH)
            assert capture.position == ledger.head_position()
    log = first.read_log(0, 1000)
    assert [entry.position for entry in log] == list(range(1, len(log) + 1))
    assert all(entry.prev_hash == before.hash for before, entry in itertools.pairwise(log))
    resent = first.post(log[-1].document, GH)
    assert (resent.appended, resent.position) == (False, log[-1].position)


# --------------------------------------------------------- two server processes


def test_two_servers_on_one_store_race_over_http(store_url: str, server_factory: Any) -> None:
    one = server_factory(store_url)
    two = server_factory(store_url)
    secretariat = one.token("secretariat")
    ghana = one.token("authority", "GH")
    with one.client(secretariat) as client:
        assert (
            client.post("/v1/events", json=batch(admitted("GH"), admitted("AE"))).status_code == 201
        )
    with two.client(ghana) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
        operators = batch(licensed("GH-OP1", "miner", "exporter"), licensed("GH-OP2", "dealer"))
        assert client.post("/v1/events", json=operators).status_code == 201

    clients = [one.client(ghana), two.client(ghana)]
    try:
        for n in range(ROUNDS):
            lot = f"GH-R{n}"
            assert (
                clients[n % 2].post("/v1/events", json=produced(lot, "GH-M1", "10")).status_code
                == 201
            )
            # produced through one process, raced for through both (read-your-writes)
            exports = [export(f"GH-C{n}{side}", "GH", "AE", [lot], "10") for side in "ab"]
            responses = race(
                [
                    partial(clients[0].post, "/v1/events", json=exports[0]),
                    partial(clients[1].post, "/v1/events", json=exports[1]),
                ]
            )
            assert all(isinstance(r, httpx.Response) for r in responses), responses
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201, 409], [r.text for r in responses]
            loser = next(r for r in responses if r.status_code == 409).json()["error"]
            assert loser["code"] in ("lot_in_transit", "lot_not_held"), loser

            assert (
                clients[0].post("/v1/events", json=produced(f"GH-Q{n}", "GH-M1", "10")).status_code
                == 201
            )
            splits = [split(f"GH-Q{n}", (f"GH-Q{n}{s}1", "4"), (f"GH-Q{n}{s}2", "6")) for s in "ab"]
            responses = race(
                [
                    partial(clients[1].post, "/v1/events", json=splits[0]),
                    partial(clients[0].post, "/v1/events", json=splits[1]),
                ]
            )
            assert sorted(r.status_code for r in responses) == [201, 409], [
                r.text for r in responses
            ]

            lot = f"GH-T{n}"
            assert (
                clients[1]
                .post("/v1/events", json=produced(lot, "GH-M1", "10", operator="GH-OP1"))
                .status_code
                == 201
            )
            sale, certificate = _sale_and_export(lot, f"GH-CT{n}")
            responses = race(
                [
                    partial(clients[n % 2].post, "/v1/events", json=sale),
                    partial(clients[1 - n % 2].post, "/v1/events", json=certificate),
                ]
            )
            assert sorted(r.status_code for r in responses) == [201, 409], [
                r.text for r in responses
            ]
            loser = next(r for r in responses if r.status_code == 409).json()["error"]
            assert loser["code"] in ("lot_in_transit", "lot_not_held"), loser
    finally:
        for client in clients:
            client.close()

    with two.client(secretariat) as client:
        log = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    types = [entry["type"] for entry in log]
    assert types.count("lot.split") == ROUNDS
    # one of each transfer and export of a GH-T lot, and one export of each GH-R lot
    assert types.count("export.certified") + types.count("lot.transferred") == 2 * ROUNDS
