"""Operators and sanctions on each store: every rule broken once (the right code, nothing
appended, the watched lots unchanged, then the fix accepted), every wrong role or
jurisdiction (403, nothing written), and who holds a lot after each kind of document.

`operator_world` is `basic_world` (GH, CI, AE; mine GH-M1 of GH; site CI-S1 of CI; lots
GH-L1 of 100 ct and CI-L1 of 60 ct, held by no operator) with the operators GH-OP-D
(digger), GH-OP-B (buyer, dealer), GH-OP-X (exporter), CI-OP-D (digger) and AE-OP-I
(importer), and GH-L2 (10 ct) produced by GH-OP-D. Documents occur on 2005-06-01.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.protocol import HELD, IN_TRANSIT
from tests.support import (
    AUDITOR,
    INVESTIGATOR,
    SECRETARIAT,
    Actor,
    Case,
    accept,
    authority,
    basic_world,
    batch,
    case_registry,
    confirmed,
    delisted,
    doc,
    export,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    licensed,
    listed,
    lot_operator,
    lot_state,
    merged,
    operator_revoked,
    produced,
    refuse,
    seized,
    split,
    transferred,
)

GH, CI, AE, ZA = authority("GH"), authority("CI"), authority("AE"), authority("ZA")
LATER = "2005-07-01T10:00:00Z"


def operator_world(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, licensed("GH-OP-D", "digger"), GH)
    accept(ledger, licensed("GH-OP-B", "buyer", "dealer"), GH)
    accept(ledger, licensed("GH-OP-X", "exporter"), GH)
    accept(ledger, licensed("CI-OP-D", "digger"), CI)
    accept(ledger, licensed("AE-OP-I", "importer"), AE)
    accept(ledger, produced("GH-L2", "GH-M1", "10", operator="GH-OP-D"), GH)


def exported(lot_ids: list[str], carats: str, operator_id: str | None, **kw: Any) -> dict:
    """GH-C1 from GH to AE, naming the exporter's operator when given."""
    document = export("GH-C1", "GH", "AE", lot_ids, carats, declared_origin="GH", **kw)
    if operator_id is not None:
        document["exporter"] = {"name": "Accra Exporters", "operator_id": operator_id}
    return document


def imported(operator_id: str | None, **kw: Any) -> dict:
    extra = {} if operator_id is None else {"operator_id": operator_id}
    return confirmed("GH-C1", "10", **extra, **kw)


def ship_gh_l2_via_gh_op_x(ledger: Ledger) -> None:
    accept(ledger, transferred("GH-L2", "GH-OP-X"), GH)
    accept(ledger, exported(["GH-L2"], "10", "GH-OP-X"), GH)


# --------------------------------------------------------------------- operator.licensed


CASES, case = case_registry()


@case
def operator_id_not_starting_with_its_participant(ledger: Ledger) -> Case:
    return Case(
        licensed("CI-OP-9", "dealer", participant="GH"),
        GH,
        ("bad_operator_id",),
        fix=[(licensed("GH-OP-9", "dealer"), GH)],
    )


@case
def operator_id_without_the_dash(ledger: Ledger) -> Case:
    return Case(licensed("GHOP9", "dealer", participant="GH"), GH, ("bad_operator_id",))


@case
def operator_licensed_twice(ledger: Ledger) -> Case:
    return Case(licensed("GH-OP-D", "dealer"), GH, ("duplicate_id",))


@case
def operator_id_reused_after_revocation(ledger: Ledger) -> Case:
    accept(ledger, operator_revoked("GH-OP-B"), GH)
    return Case(licensed("GH-OP-B", "buyer"), GH, ("duplicate_id",))


@case
def operator_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(licensed("ZA-OP-1", "miner"), ZA, ("unknown_participant",))


# ------------------------------------------------------------ operator.licence_revoked


@case
def revoking_an_unknown_operator(ledger: Ledger) -> Case:
    return Case(operator_revoked("GH-OP-NONE"), GH, ("unknown_operator",))


# -------------------------------------------------------------- lot.produced + operator


@case
def produced_by_an_unknown_operator(ledger: Ledger) -> Case:
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="GH-OP-NONE"),
        GH,
        ("unknown_operator",),
        watch=("GH-L3",),
        fix=[(produced("GH-L3", "GH-M1", "5", operator="GH-OP-D"), GH)],
    )


@case
def produced_by_an_operator_of_another_participant(ledger: Ledger) -> Case:
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="CI-OP-D"), GH, ("unknown_operator",), ("GH-L3",)
    )


@case
def produced_by_an_operator_neither_miner_nor_digger(ledger: Ledger) -> Case:
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="GH-OP-B"), GH, ("licence_invalid",), ("GH-L3",)
    )


@case
def produced_by_an_operator_whose_licence_expired(ledger: Ledger) -> Case:
    accept(ledger, licensed("GH-OP-OLD", "miner", valid_until="2005-05-31"), GH)
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="GH-OP-OLD"),
        GH,
        ("licence_invalid",),
        ("GH-L3",),
        fix=[
            (
                produced(
                    "GH-L3", "GH-M1", "5", occurred_at="2005-05-31T23:00:00Z", operator="GH-OP-OLD"
                ),
                GH,
            )
        ],
    )


@case
def produced_by_an_operator_whose_licence_was_revoked(ledger: Ledger) -> Case:
    accept(ledger, operator_revoked("GH-OP-D", occurred_at="2005-06-01T08:00:00Z"), GH)
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="GH-OP-D"),
        GH,
        ("licence_invalid",),
        ("GH-L3",),
        # a document dated before the revocation still names a valid licence
        fix=[
            (
                produced(
                    "GH-L3", "GH-M1", "5", occurred_at="2005-05-31T10:00:00Z", operator="GH-OP-D"
                ),
                GH,
            )
        ],
    )


@case
def produced_by_a_sanctioned_operator(ledger: Ledger) -> Case:
    accept(ledger, listed("UN-1", "GH-OP-D", effective_from="2005-06-01"), SECRETARIAT)
    return Case(
        produced("GH-L3", "GH-M1", "5", operator="GH-OP-D"),
        GH,
        ("sanctioned_party",),
        ("GH-L3",),
        fix=[
            (
                produced(
                    "GH-L3", "GH-M1", "5", occurred_at="2005-05-31T10:00:00Z", operator="GH-OP-D"
                ),
                GH,
            )
        ],
    )


# ------------------------------------------------------------------------ lot.transferred


@case
def transferring_an_unknown_lot(ledger: Ledger) -> Case:
    return Case(transferred("GH-NONE", "GH-OP-B"), GH, ("unknown_lot",))


@case
def transferring_to_an_unknown_operator(ledger: Ledger) -> Case:
    return Case(
        transferred("GH-L2", "GH-OP-NONE"),
        GH,
        ("unknown_operator",),
        ("GH-L2",),
        fix=[(transferred("GH-L2", "GH-OP-B"), GH)],
    )


@case
def transferring_to_an_operator_of_another_participant(ledger: Ledger) -> Case:
    return Case(transferred("GH-L2", "CI-OP-D"), GH, ("unknown_operator",), ("GH-L2",))


@case
def transferring_to_an_operator_whose_licence_was_revoked(ledger: Ledger) -> Case:
    accept(ledger, operator_revoked("GH-OP-B"), GH)
    return Case(transferred("GH-L2", "GH-OP-B"), GH, ("licence_invalid",), ("GH-L2",))


@case
def transferring_after_the_buyers_licence_expired(ledger: Ledger) -> Case:
    return Case(
        transferred("GH-L2", "GH-OP-B", occurred_at="2011-01-01T10:00:00Z"),
        GH,
        ("licence_invalid",),
        ("GH-L2",),
        fix=[(transferred("GH-L2", "GH-OP-B", occurred_at="2010-12-31T23:00:00Z"), GH)],
    )


@case
def transferring_to_a_sanctioned_operator(ledger: Ledger) -> Case:
    accept(ledger, listed("UN-1", "GH-OP-B", effective_from="2005-05-01"), SECRETARIAT)
    accept(ledger, delisted("UN-1", "2005-07-01"), SECRETARIAT)
    return Case(
        transferred("GH-L2", "GH-OP-B"),
        GH,
        ("sanctioned_party",),
        ("GH-L2",),
        # lifted from 2005-07-01: not in force that day
        fix=[(transferred("GH-L2", "GH-OP-B", occurred_at=LATER), GH)],
    )


@case
def transferring_a_lot_in_transit(ledger: Ledger) -> Case:
    ship_gh_l2_via_gh_op_x(ledger)
    return Case(transferred("GH-L2", "GH-OP-B"), GH, ("lot_in_transit",), ("GH-L2",))


@case
def transferring_a_consumed_lot(ledger: Ledger) -> Case:
    accept(ledger, split("GH-L2", ("GH-A", "4"), ("GH-B", "6")), GH)
    return Case(
        transferred("GH-L2", "GH-OP-B"),
        GH,
        ("lot_consumed",),
        ("GH-L2", "GH-A"),
        fix=[(transferred("GH-A", "GH-OP-B"), GH)],
    )


@case
def transferring_a_seized_lot(ledger: Ledger) -> Case:
    accept(ledger, seized("GH-L2"), GH)
    return Case(transferred("GH-L2", "GH-OP-B"), GH, ("lot_seized",), ("GH-L2",))


# ------------------------------------------------------------------------ split and merge


@case
def merging_lots_of_two_operators(ledger: Ledger) -> Case:
    accept(ledger, produced("GH-L3", "GH-M1", "5", operator="GH-OP-D"), GH)
    accept(ledger, transferred("GH-L3", "GH-OP-B"), GH)
    return Case(
        merged(["GH-L2", "GH-L3"], "GH-X"),
        GH,
        ("operator_mismatch",),
        ("GH-L2", "GH-L3", "GH-X"),
        fix=[(transferred("GH-L2", "GH-OP-B"), GH), (merged(["GH-L2", "GH-L3"], "GH-X"), GH)],
    )


@case
def merging_an_operators_lot_with_one_held_by_no_operator(ledger: Ledger) -> Case:
    return Case(
        merged(["GH-L1", "GH-L2"], "GH-X"), GH, ("operator_mismatch",), ("GH-L1", "GH-L2", "GH-X")
    )


# ------------------------------------------------------------------- export.certified


@case
def exporting_an_operators_lot_without_naming_it(ledger: Ledger) -> Case:
    return Case(
        exported(["GH-L2"], "10", None),
        GH,
        ("lot_not_held",),
        ("GH-L2",),
        fix=[(transferred("GH-L2", "GH-OP-X"), GH), (exported(["GH-L2"], "10", "GH-OP-X"), GH)],
    )


@case
def exporting_a_lot_the_named_exporter_does_not_hold(ledger: Ledger) -> Case:
    return Case(exported(["GH-L2"], "10", "GH-OP-X"), GH, ("lot_not_held",), ("GH-L2",))


@case
def exporting_a_lot_of_no_operator_naming_an_exporter(ledger: Ledger) -> Case:
    return Case(
        exported(["GH-L1"], "100", "GH-OP-X"),
        GH,
        ("lot_not_held",),
        ("GH-L1",),
        fix=[(exported(["GH-L1"], "100", None), GH)],
    )


@case
def exporting_through_an_operator_without_the_exporter_role(ledger: Ledger) -> Case:
    accept(ledger, transferred("GH-L2", "GH-OP-B"), GH)
    return Case(exported(["GH-L2"], "10", "GH-OP-B"), GH, ("licence_invalid",), ("GH-L2",))


@case
def exporting_through_an_operator_of_another_participant(ledger: Ledger) -> Case:
    return Case(exported(["GH-L2"], "10", "CI-OP-D"), GH, ("unknown_operator",), ("GH-L2",))


@case
def exporting_through_an_unknown_operator(ledger: Ledger) -> Case:
    return Case(exported(["GH-L2"], "10", "GH-OP-NONE"), GH, ("unknown_operator",), ("GH-L2",))


@case
def exporting_through_a_sanctioned_exporter(ledger: Ledger) -> Case:
    accept(ledger, transferred("GH-L2", "GH-OP-X"), GH)
    accept(ledger, listed("UN-1", "GH-OP-X"), SECRETARIAT)
    return Case(
        exported(["GH-L2"], "10", "GH-OP-X"),
        GH,
        ("sanctioned_party",),
        ("GH-L2",),
        fix=[
            (delisted("UN-1", "2005-06-01"), SECRETARIAT),
            (exported(["GH-L2"], "10", "GH-OP-X"), GH),
        ],
    )


@case
def exporting_through_an_exporter_whose_licence_was_revoked(ledger: Ledger) -> Case:
    accept(ledger, transferred("GH-L2", "GH-OP-X"), GH)
    accept(ledger, operator_revoked("GH-OP-X"), GH)
    return Case(exported(["GH-L2"], "10", "GH-OP-X"), GH, ("licence_invalid",), ("GH-L2",))


# ------------------------------------------------------------------- import.confirmed


@case
def importing_through_an_operator_of_another_participant(ledger: Ledger) -> Case:
    ship_gh_l2_via_gh_op_x(ledger)
    return Case(
        imported("GH-OP-B"),
        AE,
        ("unknown_operator",),
        ("GH-L2",),
        fix=[(imported("AE-OP-I"), AE)],
    )


@case
def importing_through_an_operator_without_the_importer_role(ledger: Ledger) -> Case:
    ship_gh_l2_via_gh_op_x(ledger)
    accept(ledger, licensed("AE-OP-T", "dealer"), AE)
    return Case(imported("AE-OP-T"), AE, ("licence_invalid",), ("GH-L2",))


@case
def importing_through_a_sanctioned_importer(ledger: Ledger) -> Case:
    ship_gh_l2_via_gh_op_x(ledger)
    accept(ledger, listed("UN-9", "AE-OP-I", effective_from="2005-06-01"), SECRETARIAT)
    return Case(
        imported("AE-OP-I"), AE, ("sanctioned_party",), ("GH-L2",), fix=[(imported(None), AE)]
    )


# ------------------------------------------------------------------------------ sanctions


@case
def listing_an_unknown_operator(ledger: Ledger) -> Case:
    return Case(listed("UN-1", "GH-OP-NONE"), SECRETARIAT, ("unknown_operator",))


@case
def listing_id_reused_for_another_operator(ledger: Ledger) -> Case:
    accept(ledger, listed("UN-1", "GH-OP-B"), SECRETARIAT)
    accept(ledger, delisted("UN-1", "2005-03-01"), SECRETARIAT)
    return Case(
        listed("UN-1", "GH-OP-X"),
        SECRETARIAT,
        ("duplicate_id",),
        fix=[(listed("UN-2", "GH-OP-X"), SECRETARIAT)],
    )


@case
def lifting_an_unknown_listing(ledger: Ledger) -> Case:
    return Case(delisted("UN-NONE", "2006-01-01"), SECRETARIAT, ("unknown_listing",))


@case
def lifting_a_listing_before_it_began(ledger: Ledger) -> Case:
    accept(ledger, listed("UN-1", "GH-OP-B", effective_from="2005-03-01"), SECRETARIAT)
    return Case(
        delisted("UN-1", "2005-02-28"),
        SECRETARIAT,
        ("bad_dates",),
        fix=[(delisted("UN-1", "2005-03-01"), SECRETARIAT)],
    )


@pytest.mark.parametrize("build", list(CASES.values()), ids=list(CASES))
def test_a_broken_rule_is_refused_and_appends_nothing(
    ledger: Ledger, build: Callable[[Ledger], Case]
) -> None:
    operator_world(ledger)
    broken = build(ledger)
    watched = {lot_id: _lot(ledger, lot_id) for lot_id in broken.watch}

    error = refuse(ledger, broken.payload, broken.actor, *broken.codes)

    if error.code == "sanctioned_party":
        assert set(error.detail or {}) == {"listing_id", "operator_id"}, error.detail
    assert {lot_id: _lot(ledger, lot_id) for lot_id in broken.watch} == watched
    for payload, actor in broken.fix:
        accept(ledger, payload, actor)


def _lot(ledger: Ledger, lot_id: str) -> tuple[Any, ...] | None:
    state = lot_state(ledger, lot_id)
    return None if state is None else (*state, lot_operator(ledger, lot_id))


def test_a_refused_document_in_a_batch_appends_none_of_it(ledger: Ledger) -> None:
    operator_world(ledger)
    error = refuse(
        ledger,
        batch(transferred("GH-L2", "GH-OP-B"), merged(["GH-L1", "GH-L2"], "GH-X")),
        GH,
        "operator_mismatch",
        index=1,
    )
    assert error.index == 1
    assert lot_operator(ledger, "GH-L2") == "GH-OP-D"


# ------------------------------------------------------------- roles and jurisdictions


def _forbidden_cases() -> list[tuple[str, Callable[[], dict[str, Any]], Actor]]:
    return [
        ("licensed for another participant", lambda: licensed("GH-OP-9", "miner"), CI),
        ("licensed by the secretariat", lambda: licensed("GH-OP-9", "miner"), SECRETARIAT),
        ("licensed by an investigator", lambda: licensed("GH-OP-9", "miner"), INVESTIGATOR),
        ("revoked by another participant", lambda: operator_revoked("GH-OP-D"), CI),
        ("revoked by the secretariat", lambda: operator_revoked("GH-OP-D"), SECRETARIAT),
        ("transferred by another participant", lambda: transferred("GH-L2", "GH-OP-B"), CI),
        ("transferred by the secretariat", lambda: transferred("GH-L2", "GH-OP-B"), SECRETARIAT),
        ("transferred by an auditor", lambda: transferred("GH-L2", "GH-OP-B"), AUDITOR),
        ("listed by an authority", lambda: listed("UN-1", "GH-OP-D"), GH),
        ("listed by an investigator", lambda: listed("UN-1", "GH-OP-D"), INVESTIGATOR),
        ("lifted by an authority", lambda: delisted("UN-0", "2006-01-01"), GH),
        ("lifted by an auditor", lambda: delisted("UN-0", "2006-01-01"), AUDITOR),
    ]


@pytest.mark.parametrize(
    ("build", "actor"),
    [(build, actor) for _, build, actor in _forbidden_cases()],
    ids=[name for name, _, _ in _forbidden_cases()],
)
def test_a_wrong_role_or_jurisdiction_is_forbidden_and_writes_nothing(
    ledger: Ledger, build: Callable[[], dict[str, Any]], actor: Actor
) -> None:
    operator_world(ledger)
    accept(ledger, listed("UN-0", "GH-OP-B", effective_from="2004-01-01"), SECRETARIAT)
    refuse(ledger, build(), actor, "forbidden")
    assert lot_operator(ledger, "GH-L2") == "GH-OP-D"


def test_a_forbidden_document_anywhere_in_a_batch_comes_before_any_conflict(
    ledger: Ledger,
) -> None:
    operator_world(ledger)
    refuse(
        ledger,
        batch(transferred("GH-NONE", "GH-OP-B"), listed("UN-1", "GH-OP-D")),
        GH,
        "forbidden",
        index=1,
    )


# ------------------------------------------------------------------- who holds a lot


def test_the_operator_passes_from_production_through_cutting_sale_export_and_import(
    ledger: Ledger,
) -> None:
    operator_world(ledger)
    assert lot_operator(ledger, "GH-L2") == "GH-OP-D"
    assert lot_operator(ledger, "GH-L1") is None
    accept(ledger, split("GH-L2", ("GH-A", "4"), ("GH-B", "6")), GH)
    assert [lot_operator(ledger, lot) for lot in ("GH-A", "GH-B")] == ["GH-OP-D", "GH-OP-D"]
    accept(ledger, merged(["GH-A", "GH-B"], "GH-X"), GH)
    assert lot_operator(ledger, "GH-X") == "GH-OP-D"
    accept(ledger, transferred("GH-X", "GH-OP-B", value_usd="1500"), GH)
    assert lot_operator(ledger, "GH-X") == "GH-OP-B"
    accept(ledger, transferred("GH-X", "GH-OP-X", value_usd="1800"), GH)
    accept(ledger, exported(["GH-X"], "10", "GH-OP-X"), GH)
    assert lot_state(ledger, "GH-X")[:2] == (IN_TRANSIT, "GH")  # type: ignore[index]
    assert lot_operator(ledger, "GH-X") == "GH-OP-X"
    accept(ledger, confirmed("GH-C1", "10", operator_id="AE-OP-I"), AE)
    assert lot_state(ledger, "GH-X")[:2] == (HELD, "AE")  # type: ignore[index]
    assert lot_operator(ledger, "GH-X") == "AE-OP-I"


def test_an_import_naming_no_operator_leaves_the_lots_with_none(ledger: Ledger) -> None:
    operator_world(ledger)
    ship_gh_l2_via_gh_op_x(ledger)
    accept(ledger, imported(None), AE)
    assert lot_operator(ledger, "GH-L2") is None
    # the importing participant's authority may now give it to one of its operators
    accept(ledger, transferred("GH-L2", "AE-OP-I"), AE)
    assert lot_operator(ledger, "GH-L2") == "AE-OP-I"


def test_a_sanction_binds_an_operator_of_any_participant_and_lifting_again_moves_its_end(
    ledger: Ledger,
) -> None:
    operator_world(ledger)
    accept(ledger, listed("UN-1", "CI-OP-D", effective_from="2005-01-01"), SECRETARIAT)
    accept(ledger, delisted("UN-1", "2005-05-01"), SECRETARIAT)
    accept(ledger, produced("CI-L9", "CI-S1", "5", operator="CI-OP-D"), CI)
    accept(ledger, delisted("UN-1", "2006-01-01"), SECRETARIAT)
    refuse(ledger, produced("CI-L10", "CI-S1", "5", operator="CI-OP-D"), CI, "sanctioned_party")


def test_an_operator_may_hold_several_roles_and_a_transfer_needs_no_particular_one(
    ledger: Ledger,
) -> None:
    operator_world(ledger)
    accept(
        ledger,
        licensed("GH-OP-ALL", "miner", "digger", "buyer", "dealer", "exporter", "importer"),
        GH,
    )
    accept(ledger, produced("GH-L3", "GH-M1", "5", operator="GH-OP-ALL"), GH)
    accept(ledger, transferred("GH-L3", "GH-OP-D"), GH)  # a digger may buy
    assert lot_operator(ledger, "GH-L3") == "GH-OP-D"


@pytest.mark.parametrize(
    "fields",
    [
        {"roles": []},
        {"roles": ["dealer", "dealer"]},
        {"roles": ["smuggler"]},
        {"licence": {"number": "X"}},
        {"licence": {"number": "X", "valid_until": "2010-12-31", "holder": "Y"}},
        {"operator_id": "GH OP 1"},
    ],
)
def test_a_malformed_operator_is_invalid(ledger: Ledger, fields: dict[str, Any]) -> None:
    operator_world(ledger)
    refuse(ledger, {**licensed("GH-OP-9", "dealer"), **fields}, GH, "invalid")


def test_a_transfer_with_a_negative_value_is_invalid(ledger: Ledger) -> None:
    operator_world(ledger)
    refuse(ledger, transferred("GH-L2", "GH-OP-B", value_usd="-1"), GH, "invalid")
    refuse(ledger, doc("lot.transferred", lot_id="GH-L2", value_usd="1"), GH, "invalid")
