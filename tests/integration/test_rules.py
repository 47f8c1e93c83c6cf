"""Every 409 rule of PROTOCOL.md, broken once: the right code, and nothing appended.

Each case starts from `basic_world` (GH, CI, AE admitted; mine GH-M1 of GH in
region Eastern; alluvial site CI-S1 of CI in region North; lots GH-L1 of 100 ct
and CI-L1 of 60 ct), builds what it needs, then posts the faulty document. The
refusal must leave the log's head and the watched lots exactly as they were,
and, where a case names a fix, the corrected documents are then accepted: the
refusal left the ledger usable.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.application import Ledger
from ledger.documents import parse_json
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT, SEIZED
from tests.support import (
    SECRETARIAT,
    Case,
    accept,
    admitted,
    authority,
    basic_world,
    case_registry,
    confirmed,
    embargo,
    export,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    lifted,
    lot_state,
    merged,
    mine,
    produced,
    refuse,
    reinstated,
    revoked,
    seized,
    site,
    split,
    suspended,
    withdrawn,
)

GH, CI, AE = authority("GH"), authority("CI"), authority("AE")


def ship_gh_l1_to_ae(ledger: Ledger, *, confirm: bool = False) -> None:
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"), GH)
    if confirm:
        accept(ledger, confirmed("GH-C1", "100"), AE)


def ship_ci_l1_to_gh(ledger: Ledger) -> None:
    """CI-L1 (60 ct from CI-S1) certified to GH on 2005-06-01 and received there."""
    accept(
        ledger,
        export(
            "CI-C1",
            "CI",
            "GH",
            ["CI-L1"],
            "60",
            declared_origin="CI",
            issued_on="2005-06-01",
            expires_on="2005-07-01",
        ),
        CI,
    )
    accept(ledger, confirmed("CI-C1", "60", received_on="2005-06-03"), GH)


def second_gh_lot(ledger: Ledger) -> None:
    accept(ledger, produced("GH-L2", "GH-M1", "10"), GH)


# --------------------------------------------------------------------- duplicate_id


CASES, case = case_registry()


@case
def lot_produced_twice(ledger: Ledger) -> Case:
    return Case(
        produced("GH-L1", "GH-M1", "5"),
        GH,
        ("duplicate_id",),
        watch=("GH-L1",),
        fix=[(produced("GH-L2", "GH-M1", "5"), GH)],
    )


@case
def lot_produced_with_the_id_of_another_participants_lot(ledger: Ledger) -> Case:
    return Case(produced("CI-L1", "GH-M1", "5"), GH, ("duplicate_id",), watch=("CI-L1",))


@case
def split_into_an_existing_lot(ledger: Ledger) -> Case:
    return Case(
        split("GH-L1", ("GH-A", "50"), ("CI-L1", "50")),
        GH,
        ("duplicate_id",),
        watch=("GH-L1", "GH-A", "CI-L1"),
        fix=[(split("GH-L1", ("GH-A", "50"), ("GH-B", "50")), GH)],
    )


@case
def split_into_itself(ledger: Ledger) -> Case:
    return Case(
        split("GH-L1", ("GH-L1", "50"), ("GH-B", "50")),
        GH,
        ("duplicate_id",),
        watch=("GH-L1", "GH-B"),
    )


@case
def merge_into_an_existing_lot(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    return Case(
        merged(["GH-L1", "GH-L2"], "CI-L1"),
        GH,
        ("duplicate_id",),
        watch=("GH-L1", "GH-L2", "CI-L1"),
        fix=[(merged(["GH-L1", "GH-L2"], "GH-X"), GH)],
    )


@case
def merge_into_one_of_the_merged_lots(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    return Case(
        merged(["GH-L1", "GH-L2"], "GH-L2"), GH, ("duplicate_id",), watch=("GH-L1", "GH-L2")
    )


@case
def mine_registered_twice(ledger: Ledger) -> Case:
    return Case(mine("GH-M1", "GH"), GH, ("duplicate_id",), fix=[(mine("GH-M2", "GH"), GH)])


@case
def alluvial_site_with_a_mine_id(ledger: Ledger) -> Case:
    return Case(site("GH-M1", "GH"), GH, ("duplicate_id",), fix=[(site("GH-S1", "GH"), GH)])


@case
def mine_with_an_alluvial_site_id(ledger: Ledger) -> Case:
    return Case(mine("CI-S1", "CI"), CI, ("duplicate_id",))


@case
def alluvial_site_registered_twice(ledger: Ledger) -> Case:
    return Case(site("CI-S1", "CI"), CI, ("duplicate_id",))


@case
def source_id_taken_by_another_participant(ledger: Ledger) -> Case:
    return Case(mine("CI-S1", "GH"), GH, ("duplicate_id",))


@case
def certificate_id_used_twice(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    ship_gh_l1_to_ae(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L2"], "10"),
        GH,
        ("duplicate_id",),
        watch=("GH-L1", "GH-L2"),
        fix=[(export("GH-C2", "GH", "AE", ["GH-L2"], "10"), GH)],
    )


@case
def embargo_declared_twice(ledger: Ledger) -> Case:
    accept(ledger, embargo("E1", "CI"), SECRETARIAT)
    return Case(
        embargo("E1", "GH"),
        SECRETARIAT,
        ("duplicate_id",),
        fix=[(embargo("E2", "GH"), SECRETARIAT)],
    )


@case
def participant_admitted_twice(ledger: Ledger) -> Case:
    return Case(admitted("GH", "Ghana again"), SECRETARIAT, ("duplicate_id",))


@case
def suspended_participant_admitted(ledger: Ledger) -> Case:
    accept(ledger, suspended("GH"), SECRETARIAT)
    return Case(
        admitted("GH"), SECRETARIAT, ("duplicate_id",), fix=[(reinstated("GH"), SECRETARIAT)]
    )


# -------------------------------------------------------------- unknown_participant


@case
def export_to_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "ZA", ["GH-L1"], "100"),
        GH,
        ("unknown_participant",),
        watch=("GH-L1",),
        fix=[
            (admitted("ZA"), SECRETARIAT),
            (export("GH-C1", "GH", "ZA", ["GH-L1"], "100"), GH),
        ],
    )


@case
def export_by_a_participant_never_admitted(ledger: Ledger) -> Case:
    # ZA cannot hold GH-L1 either: either code is right
    return Case(
        export("ZA-C1", "ZA", "GH", ["GH-L1"], "100"),
        authority("ZA"),
        ("unknown_participant", "lot_not_held"),
        watch=("GH-L1",),
    )


@case
def mine_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(
        mine("ZA-M1", "ZA"),
        authority("ZA"),
        ("unknown_participant",),
        fix=[(admitted("ZA"), SECRETARIAT), (mine("ZA-M1", "ZA"), authority("ZA"))],
    )


@case
def alluvial_site_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(site("ZA-S1", "ZA"), authority("ZA"), ("unknown_participant",))


@case
def suspension_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(suspended("ZA"), SECRETARIAT, ("unknown_participant",))


@case
def reinstatement_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(reinstated("ZA"), SECRETARIAT, ("unknown_participant",))


@case
def withdrawal_of_a_participant_never_admitted(ledger: Ledger) -> Case:
    return Case(withdrawn("ZA"), SECRETARIAT, ("unknown_participant",))


# ------------------------------------------------------------- participant_inactive


@case
def export_by_a_suspended_exporter(ledger: Ledger) -> Case:
    accept(ledger, suspended("GH"), SECRETARIAT)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("participant_inactive",),
        watch=("GH-L1",),
        fix=[
            (reinstated("GH"), SECRETARIAT),
            (export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH),
        ],
    )


@case
def export_by_a_withdrawn_exporter(ledger: Ledger) -> Case:
    accept(ledger, withdrawn("GH"), SECRETARIAT)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("participant_inactive",),
        watch=("GH-L1",),
        fix=[
            (admitted("GH"), SECRETARIAT),
            (export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH),
        ],
    )


@case
def export_to_a_suspended_importer(ledger: Ledger) -> Case:
    accept(ledger, suspended("AE"), SECRETARIAT)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("participant_inactive",),
        watch=("GH-L1",),
        fix=[
            (reinstated("AE"), SECRETARIAT),
            (export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH),
        ],
    )


@case
def export_to_a_withdrawn_importer(ledger: Ledger) -> Case:
    accept(ledger, withdrawn("AE"), SECRETARIAT)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("participant_inactive",),
        watch=("GH-L1",),
    )


@case
def import_confirmed_by_an_importer_suspended_since_the_export(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    accept(ledger, suspended("AE"), SECRETARIAT)
    return Case(
        confirmed("GH-C1", "100"),
        AE,
        ("participant_inactive",),
        watch=("GH-L1",),
        fix=[(reinstated("AE"), SECRETARIAT), (confirmed("GH-C1", "100"), AE)],
    )


@case
def import_confirmed_by_an_importer_withdrawn_since_the_export(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    accept(ledger, withdrawn("AE"), SECRETARIAT)
    return Case(
        confirmed("GH-C1", "100"),
        AE,
        ("participant_inactive",),
        watch=("GH-L1",),
        fix=[(admitted("AE"), SECRETARIAT), (confirmed("GH-C1", "100"), AE)],
    )


# ------------------------------------------------------------------ same_participant


@case
def export_to_itself(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "GH", ["GH-L1"], "100"),
        GH,
        ("same_participant",),
        watch=("GH-L1",),
    )


# -------------------------------------------------------- unknown_source, licences


@case
def production_at_an_unknown_source(ledger: Ledger) -> Case:
    return Case(produced("GH-L9", "GH-M9", "5"), GH, ("unknown_source",), watch=("GH-L9",))


@case
def licence_revoked_of_an_unknown_site(ledger: Ledger) -> Case:
    return Case(revoked("CI-S9"), CI, ("unknown_source",))


@case
def production_after_the_licence_expired(ledger: Ledger) -> Case:
    return Case(
        produced("CI-L9", "CI-S1", "5", occurred_at="2011-01-01T08:00:00Z"),
        CI,
        ("licence_invalid",),
        watch=("CI-L9",),
        # valid_until is the last valid day
        fix=[(produced("CI-L9", "CI-S1", "5", occurred_at="2010-12-31T20:00:00Z"), CI)],
    )


@case
def production_on_the_day_the_licence_was_revoked(ledger: Ledger) -> Case:
    accept(ledger, revoked("CI-S1", occurred_at="2005-06-10T09:00:00Z"), CI)
    return Case(
        produced("CI-L9", "CI-S1", "5", occurred_at="2005-06-10T23:00:00Z"),
        CI,
        ("licence_invalid",),
        watch=("CI-L9",),
        # the revocation takes effect from its own date: the day before stays valid,
        # even when the production is posted after the revocation
        fix=[(produced("CI-L9", "CI-S1", "5", occurred_at="2005-06-09T12:00:00Z"), CI)],
    )


@case
def production_long_after_the_licence_was_revoked(ledger: Ledger) -> Case:
    accept(ledger, revoked("CI-S1", occurred_at="2005-06-10T09:00:00Z"), CI)
    return Case(
        produced("CI-L9", "CI-S1", "5", occurred_at="2006-03-01T10:00:00Z"),
        CI,
        ("licence_invalid",),
        watch=("CI-L9",),
    )


# ----------------------------------------------------------------------- unknown_lot


@case
def split_of_an_unknown_lot(ledger: Ledger) -> Case:
    return Case(split("GH-L9", ("GH-A", "1"), ("GH-B", "1")), GH, ("unknown_lot",), watch=("GH-A",))


@case
def merge_with_an_unknown_lot(ledger: Ledger) -> Case:
    return Case(merged(["GH-L1", "GH-L9"], "GH-X"), GH, ("unknown_lot",), watch=("GH-L1", "GH-X"))


@case
def export_of_an_unknown_lot(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1", "GH-L9"], "100"),
        GH,
        ("unknown_lot", "mass_balance"),
        watch=("GH-L1",),
    )


@case
def seizure_of_an_unknown_lot(ledger: Ledger) -> Case:
    return Case(seized("GH-L9"), GH, ("unknown_lot",))


# --------------------------------------------------------------------- lot_not_held


@case
def split_of_another_participants_lot(ledger: Ledger) -> Case:
    return Case(
        split("GH-L1", ("CI-A", "50"), ("CI-B", "50")),
        CI,
        ("lot_not_held",),
        watch=("GH-L1", "CI-A"),
    )


@case
def merge_with_another_participants_lot(ledger: Ledger) -> Case:
    return Case(
        merged(["CI-L1", "GH-L1"], "CI-X"),
        CI,
        ("lot_not_held",),
        watch=("GH-L1", "CI-L1", "CI-X"),
    )


@case
def export_of_another_participants_lot(ledger: Ledger) -> Case:
    return Case(
        export("CI-C1", "CI", "AE", ["GH-L1"], "100"),
        CI,
        ("lot_not_held",),
        watch=("GH-L1",),
    )


@case
def split_by_the_exporter_after_the_import_was_confirmed(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger, confirm=True)
    return Case(
        split("GH-L1", ("GH-A", "50"), ("GH-B", "50")),
        GH,
        ("lot_not_held",),
        watch=("GH-L1", "GH-A"),
        fix=[(split("GH-L1", ("AE-A", "50"), ("AE-B", "50")), AE)],
    )


@case
def export_by_the_exporter_after_the_import_was_confirmed(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger, confirm=True)
    return Case(
        export("GH-C2", "GH", "CI", ["GH-L1"], "100"),
        GH,
        ("lot_not_held",),
        watch=("GH-L1",),
        fix=[(export("AE-C1", "AE", "CI", ["GH-L1"], "100"), AE)],
    )


# ------------------------------------------------------------------- lot_in_transit


@case
def split_in_transit(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    return Case(
        split("GH-L1", ("GH-A", "50"), ("GH-B", "50")),
        GH,
        ("lot_in_transit",),
        watch=("GH-L1", "GH-A"),
    )


@case
def merge_in_transit(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    ship_gh_l1_to_ae(ledger)
    return Case(
        merged(["GH-L2", "GH-L1"], "GH-X"),
        GH,
        ("lot_in_transit",),
        watch=("GH-L1", "GH-L2", "GH-X"),
    )


@case
def export_in_transit(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    return Case(
        export("GH-C2", "GH", "CI", ["GH-L1"], "100"),
        GH,
        ("lot_in_transit",),
        watch=("GH-L1",),
    )


@case
def split_by_the_importer_before_confirming(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    return Case(
        split("GH-L1", ("AE-A", "50"), ("AE-B", "50")),
        AE,
        ("lot_in_transit", "lot_not_held"),
        watch=("GH-L1", "AE-A"),
    )


@case
def export_by_the_importer_before_confirming(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    return Case(
        export("AE-C1", "AE", "CI", ["GH-L1"], "100"),
        AE,
        ("lot_in_transit", "lot_not_held"),
        watch=("GH-L1",),
    )


# -------------------------------------------------------------------- lot_consumed


def split_gh_l1(ledger: Ledger) -> None:
    accept(ledger, split("GH-L1", ("GH-A", "40"), ("GH-B", "60")), GH)


@case
def split_of_a_split_lot(ledger: Ledger) -> Case:
    split_gh_l1(ledger)
    return Case(
        split("GH-L1", ("GH-C", "50"), ("GH-D", "50")),
        GH,
        ("lot_consumed",),
        watch=("GH-L1", "GH-C"),
    )


@case
def merge_of_a_split_lot(ledger: Ledger) -> Case:
    split_gh_l1(ledger)
    return Case(
        merged(["GH-A", "GH-L1"], "GH-X"),
        GH,
        ("lot_consumed",),
        watch=("GH-L1", "GH-A", "GH-X"),
        fix=[(merged(["GH-A", "GH-B"], "GH-X"), GH)],
    )


@case
def export_of_a_split_lot(ledger: Ledger) -> Case:
    split_gh_l1(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("lot_consumed",),
        watch=("GH-L1",),
        fix=[(export("GH-C1", "GH", "AE", ["GH-A", "GH-B"], "100"), GH)],
    )


@case
def seizure_of_a_split_lot(ledger: Ledger) -> Case:
    split_gh_l1(ledger)
    return Case(seized("GH-L1"), GH, ("lot_consumed",), watch=("GH-L1",))


@case
def split_of_a_merged_lot(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    accept(ledger, merged(["GH-L1", "GH-L2"], "GH-X"), GH)
    return Case(
        split("GH-L2", ("GH-A", "5"), ("GH-B", "5")),
        GH,
        ("lot_consumed",),
        watch=("GH-L2", "GH-A"),
    )


@case
def export_of_a_merged_lot(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    accept(ledger, merged(["GH-L1", "GH-L2"], "GH-X"), GH)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L2"], "10"),
        GH,
        ("lot_consumed",),
        watch=("GH-L2", "GH-X"),
        fix=[(export("GH-C1", "GH", "AE", ["GH-X"], "110"), GH)],
    )


# ---------------------------------------------------------------------- lot_seized


def seize_gh_l1(ledger: Ledger) -> None:
    accept(ledger, seized("GH-L1"), GH)


@case
def split_of_a_seized_lot(ledger: Ledger) -> Case:
    seize_gh_l1(ledger)
    return Case(
        split("GH-L1", ("GH-A", "50"), ("GH-B", "50")),
        GH,
        ("lot_seized",),
        watch=("GH-L1", "GH-A"),
    )


@case
def merge_of_a_seized_lot(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    seize_gh_l1(ledger)
    return Case(
        merged(["GH-L2", "GH-L1"], "GH-X"),
        GH,
        ("lot_seized",),
        watch=("GH-L1", "GH-L2", "GH-X"),
    )


@case
def export_of_a_seized_lot(ledger: Ledger) -> Case:
    seize_gh_l1(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        ("lot_seized",),
        watch=("GH-L1",),
    )


@case
def seizure_of_a_seized_lot(ledger: Ledger) -> Case:
    seize_gh_l1(ledger)
    return Case(seized("GH-L1"), GH, ("lot_seized",), watch=("GH-L1",))


@case
def confirmation_after_the_importer_seized_in_transit(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    accept(ledger, seized("GH-L1"), AE)
    return Case(confirmed("GH-C1", "100"), AE, ("lot_seized",), watch=("GH-L1",))


@case
def confirmation_after_the_exporter_seized_in_transit(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger)
    accept(ledger, seized("GH-L1"), GH)
    return Case(confirmed("GH-C1", "100"), AE, ("lot_seized",), watch=("GH-L1",))


@case
def confirmation_of_a_certificate_one_of_whose_lots_was_seized(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-L1", "GH-L2"], "110"), GH)
    accept(ledger, seized("GH-L2"), AE)
    return Case(confirmed("GH-C1", "110"), AE, ("lot_seized",), watch=("GH-L1", "GH-L2"))


# -------------------------------------------------------------------- mass_balance


@case
def split_parts_short_of_the_lot(ledger: Ledger) -> Case:
    return Case(
        split("GH-L1", ("GH-A", "60"), ("GH-B", "39.99")),
        GH,
        ("mass_balance",),
        watch=("GH-L1", "GH-A", "GH-B"),
        fix=[(split("GH-L1", ("GH-A", "60"), ("GH-B", "40")), GH)],
    )


@case
def split_parts_over_the_lot(ledger: Ledger) -> Case:
    return Case(
        split("GH-L1", ("GH-A", "60"), ("GH-B", "40.01")),
        GH,
        ("mass_balance",),
        watch=("GH-L1", "GH-A", "GH-B"),
    )


@case
def export_carats_not_the_lots_carats(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100.01"),
        GH,
        ("mass_balance",),
        watch=("GH-L1",),
        fix=[(export("GH-C1", "GH", "AE", ["GH-L1"], "100.00"), GH)],
    )


@case
def export_carats_of_only_one_of_two_lots(ledger: Ledger) -> Case:
    second_gh_lot(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1", "GH-L2"], "100"),
        GH,
        ("mass_balance",),
        watch=("GH-L1", "GH-L2"),
        fix=[(export("GH-C1", "GH", "AE", ["GH-L1", "GH-L2"], "110"), GH)],
    )


# ------------------------------------------------- certificate id, HS code, dates


def _bad_certificate(certificate_id: str) -> Callable[[Ledger], Case]:
    def build(ledger: Ledger) -> Case:
        return Case(
            export(certificate_id, "GH", "AE", ["GH-L1"], "100"),
            GH,
            ("bad_certificate_id",),
            watch=("GH-L1",),
            fix=[(export("GH-2005-001", "GH", "AE", ["GH-L1"], "100"), GH)],
        )

    return build


for _name, _id in {
    "certificate_id_of_the_importer": "AE-C1",
    "certificate_id_without_the_dash": "GHC1",
    "certificate_id_that_is_just_the_code": "GH",
    "certificate_id_with_the_code_at_the_end": "C1-GH",
    "certificate_id_in_lower_case": "gh-C1",
}.items():
    CASES[_name] = _bad_certificate(_id)


def _bad_hs_code(hs_code: str) -> Callable[[Ledger], Case]:
    def build(ledger: Ledger) -> Case:
        return Case(
            export("GH-C1", "GH", "AE", ["GH-L1"], "100", hs_code=hs_code),
            GH,
            ("bad_hs_code",),
            watch=("GH-L1",),
            fix=[(export("GH-C1", "GH", "AE", ["GH-L1"], "100", hs_code="7102.31"), GH)],
        )

    return build


for _name, _code in {
    "hs_code_of_polished_diamonds": "7102.39",
    "hs_code_truncated": "7102.1",
    "hs_code_without_subheading": "7102",
    "hs_code_empty": "",
}.items():
    CASES[_name] = _bad_hs_code(_code)


@case
def certificate_expiring_the_day_it_is_issued(ledger: Ledger) -> Case:
    return Case(
        export(
            "GH-C1", "GH", "AE", ["GH-L1"], "100", issued_on="2005-07-01", expires_on="2005-07-01"
        ),
        GH,
        ("bad_dates",),
        watch=("GH-L1",),
        fix=[
            (
                export(
                    "GH-C1",
                    "GH",
                    "AE",
                    ["GH-L1"],
                    "100",
                    issued_on="2005-07-01",
                    expires_on="2005-07-02",
                ),
                GH,
            )
        ],
    )


@case
def certificate_expiring_before_it_is_issued(ledger: Ledger) -> Case:
    return Case(
        export(
            "GH-C1", "GH", "AE", ["GH-L1"], "100", issued_on="2005-07-01", expires_on="2005-06-30"
        ),
        GH,
        ("bad_dates",),
        watch=("GH-L1",),
    )


# ------------------------------------------------------------- bad_declared_origin


@case
def declared_origin_of_another_participant(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="CI"),
        GH,
        ("bad_declared_origin",),
        watch=("GH-L1",),
        fix=[(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"), GH)],
    )


@case
def declared_origin_of_the_importer(ledger: Ledger) -> Case:
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="AE"),
        GH,
        ("bad_declared_origin",),
        watch=("GH-L1",),
    )


@case
def declared_origin_of_the_holder_for_foreign_material(ledger: Ledger) -> Case:
    ship_ci_l1_to_gh(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["CI-L1"], "60", declared_origin="GH"),
        GH,
        ("bad_declared_origin",),
        watch=("CI-L1",),
        fix=[(export("GH-C1", "GH", "AE", ["CI-L1"], "60", declared_origin="CI"), GH)],
    )


@case
def single_declared_origin_for_a_merged_lot_of_two_origins(ledger: Ledger) -> Case:
    ship_ci_l1_to_gh(ledger)
    accept(ledger, merged(["GH-L1", "CI-L1"], "GH-X"), GH)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-X"], "160", declared_origin="GH"),
        GH,
        ("bad_declared_origin",),
        watch=("GH-X",),
        fix=[(export("GH-C1", "GH", "AE", ["GH-X"], "160", declared_origin="MIXED"), GH)],
    )


@case
def single_declared_origin_for_two_lots_of_two_origins(ledger: Ledger) -> Case:
    ship_ci_l1_to_gh(ledger)
    return Case(
        export("GH-C1", "GH", "AE", ["GH-L1", "CI-L1"], "160", declared_origin="CI"),
        GH,
        ("bad_declared_origin",),
        watch=("GH-L1", "CI-L1"),
        fix=[(export("GH-C1", "GH", "AE", ["GH-L1", "CI-L1"], "160", declared_origin="MIXED"), GH)],
    )


# ------------------------------------------------ certificates and embargoes (ids)


@case
def confirmation_of_an_unknown_certificate(ledger: Ledger) -> Case:
    return Case(confirmed("AE-C404", "1"), AE, ("unknown_certificate",))


@case
def confirmation_of_a_confirmed_certificate(ledger: Ledger) -> Case:
    ship_gh_l1_to_ae(ledger, confirm=True)
    return Case(
        confirmed("GH-C1", "100", received_on="2005-07-09"),
        AE,
        ("already_confirmed",),
        watch=("GH-L1",),
    )


@case
def lifting_an_unknown_embargo(ledger: Ledger) -> Case:
    accept(ledger, embargo("E1", "CI"), SECRETARIAT)
    return Case(
        lifted("E404", "2006-01-01"),
        SECRETARIAT,
        ("unknown_embargo",),
        fix=[(lifted("E1", "2006-01-01"), SECRETARIAT)],
    )


@case
def lifting_an_embargo_when_none_was_ever_declared(ledger: Ledger) -> Case:
    return Case(lifted("E1", "2006-01-01"), SECRETARIAT, ("unknown_embargo",))


@pytest.mark.parametrize("build", list(CASES.values()), ids=list(CASES))
def test_a_broken_rule_is_refused_and_appends_nothing(
    ledger: Ledger, build: Callable[[Ledger], Case]
) -> None:
    basic_world(ledger)
    broken = build(ledger)
    before = {lot_id: lot_state(ledger, lot_id) for lot_id in broken.watch}

    refuse(ledger, broken.payload, broken.actor, *broken.codes)

    assert {lot_id: lot_state(ledger, lot_id) for lot_id in broken.watch} == before
    for payload, actor in broken.fix:
        accept(ledger, payload, actor)


# ------------------------------------------------------------------ participants


def test_a_withdrawn_participant_may_be_admitted_again_and_then_trades(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, withdrawn("GH"), SECRETARIAT)
    accept(ledger, admitted("GH", "Republic of Ghana"), SECRETARIAT)
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH)
    refuse(ledger, admitted("GH"), SECRETARIAT, "duplicate_id")


def test_a_suspended_participant_may_be_withdrawn_then_admitted_again(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, suspended("GH"), SECRETARIAT)
    accept(ledger, withdrawn("GH"), SECRETARIAT)
    accept(ledger, admitted("GH"), SECRETARIAT)
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH)


def test_a_suspended_participant_neither_exports_nor_imports_until_reinstated(
    ledger: Ledger,
) -> None:
    basic_world(ledger)
    accept(ledger, suspended("CI"), SECRETARIAT)
    refuse(ledger, export("CI-C1", "CI", "AE", ["CI-L1"], "60"), CI, "participant_inactive")
    refuse(ledger, export("GH-C1", "GH", "CI", ["GH-L1"], "100"), GH, "participant_inactive")
    accept(ledger, reinstated("CI"), SECRETARIAT)
    accept(ledger, export("GH-C1", "GH", "CI", ["GH-L1"], "100"), GH)
    accept(ledger, confirmed("GH-C1", "100"), CI)
    assert lot_state(ledger, "GH-L1")[:2] == (HELD, "CI")  # type: ignore[index]


# ---------------------------------------------------------------------- lot states


def test_a_lot_passes_to_the_importer_only_on_confirmation(ledger: Ledger) -> None:
    basic_world(ledger)
    ship_gh_l1_to_ae(ledger)
    status, holder, carats, certificate_id, composition = lot_state(ledger, "GH-L1")  # type: ignore[misc]
    assert (status, holder, certificate_id) == (IN_TRANSIT, "GH", "GH-C1")
    accept(ledger, confirmed("GH-C1", "99.5", value_usd="900"), AE)
    status, holder, carats_after, _, composition_after = lot_state(ledger, "GH-L1")  # type: ignore[misc]
    assert (status, holder) == (HELD, "AE")
    # shipments never change a lot's carats or composition, whatever the importer counted
    assert (carats_after, composition_after) == (carats, composition)


def test_split_and_merge_consume_their_lots(ledger: Ledger) -> None:
    basic_world(ledger)
    second_gh_lot(ledger)
    accept(ledger, split("GH-L1", ("GH-A", "40"), ("GH-B", "60")), GH)
    accept(ledger, merged(["GH-A", "GH-L2"], "GH-X"), GH)
    assert [lot_state(ledger, lot)[0] for lot in ("GH-L1", "GH-A", "GH-L2")] == [CONSUMED] * 3  # type: ignore[index]
    assert lot_state(ledger, "GH-X")[:3] == (HELD, "GH", 50)  # type: ignore[index]


def test_split_parts_are_summed_exactly_never_through_binary_floats(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, produced("GH-P", "GH-M1", "0.30"), GH)
    # 0.1 + 0.2 != 0.3 in binary floating point
    body = {
        "event_id": "7f1b5d8e-3c41-4b0a-9d55-1f7f0f6c2a11",
        "type": "lot.split",
        "occurred_at": "2005-06-02T10:00:00Z",
        "lot_id": "GH-P",
        "into": [
            {"lot_id": "GH-P1", "carats": "0.1", "value_usd": "0"},
            {"lot_id": "GH-P2", "carats": "0.2", "value_usd": "0"},
        ],
    }
    text = (
        '{"event_id": "7f1b5d8e-3c41-4b0a-9d55-1f7f0f6c2a11", "type": "lot.split",'
        ' "occurred_at": "2005-06-02T10:00:00Z", "lot_id": "GH-P", "into": ['
        '{"lot_id": "GH-P1", "carats": 0.1, "value_usd": 0},'
        ' {"lot_id": "GH-P2", "carats": 0.2, "value_usd": 0}]}'
    )
    assert ledger.post(parse_json(text), GH).appended
    # the same document with string carats is the same content: skipped
    assert not ledger.post(body, GH).appended
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-P1", "GH-P2"], "0.3"), GH)


def test_a_lot_in_transit_may_be_seized_by_the_importer_and_then_never_moves(
    ledger: Ledger,
) -> None:
    basic_world(ledger)
    ship_gh_l1_to_ae(ledger)
    accept(ledger, seized("GH-L1"), AE)
    assert lot_state(ledger, "GH-L1")[0] == SEIZED  # type: ignore[index]
    refuse(ledger, confirmed("GH-C1", "100"), AE, "lot_seized")
    refuse(ledger, split("GH-L1", ("AE-A", "50"), ("AE-B", "50")), AE, "lot_seized", "lot_not_held")
    refuse(ledger, split("GH-L1", ("GH-A", "50"), ("GH-B", "50")), GH, "lot_seized")


# ------------------------------------------------------------------- declared origin


@pytest.mark.parametrize("declared_origin", ["MIXED", "GH"])
def test_declared_origin_may_be_mixed_or_the_single_origin(
    ledger: Ledger, declared_origin: str
) -> None:
    basic_world(ledger)
    accept(
        ledger,
        export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin=declared_origin),
        GH,
    )


def test_mixed_is_accepted_for_material_of_two_origins(ledger: Ledger) -> None:
    basic_world(ledger)
    ship_ci_l1_to_gh(ledger)
    accept(ledger, merged(["GH-L1", "CI-L1"], "GH-X"), GH)
    accept(ledger, split("GH-X", ("GH-Y", "16"), ("GH-Z", "144")), GH)
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-Y"], "16", declared_origin="MIXED"), GH)


# ------------------------------------------------------------------------ embargoes


def material_of_ci_mixed_at_gh(ledger: Ledger) -> None:
    """GH merges GH-L1 (100 ct) with CI-L1 (60 ct) into GH-X, then splits it into
    GH-A (70 ct: 26.25 ct from CI-S1) and GH-B (90 ct)."""
    ship_ci_l1_to_gh(ledger)
    accept(ledger, merged(["GH-L1", "CI-L1"], "GH-X"), GH)
    accept(ledger, split("GH-X", ("GH-A", "70"), ("GH-B", "90")), GH)


def test_embargoed_origin_names_the_embargo_lot_carats_and_fraction(ledger: Ledger) -> None:
    basic_world(ledger)
    material_of_ci_mixed_at_gh(ledger)
    accept(ledger, embargo("E-CI", "CI", effective_from="2005-07-01"), SECRETARIAT)
    error = refuse(
        ledger,
        export("GH-C1", "GH", "AE", ["GH-A"], "70", issued_on="2005-07-01"),
        GH,
        "embargoed_origin",
    )
    assert error.detail == {
        "embargo_id": "E-CI",
        "lot_id": "GH-A",
        "carats": "26.25",
        "fraction": 0.375,
    }
    assert lot_state(ledger, "GH-A")[0] == HELD  # type: ignore[index]


def test_embargoed_origin_of_a_lot_entirely_from_the_embargoed_source(ledger: Ledger) -> None:
    basic_world(ledger)
    ship_ci_l1_to_gh(ledger)
    accept(ledger, embargo("E-CI", "CI", effective_from="2005-07-01"), SECRETARIAT)
    error = refuse(
        ledger,
        export("GH-C1", "GH", "AE", ["GH-L1", "CI-L1"], "160"),
        GH,
        "embargoed_origin",
    )
    assert error.detail == {
        "embargo_id": "E-CI",
        "lot_id": "CI-L1",
        "carats": "60.00",
        "fraction": 1.0,
    }
    # the clean lot alone still leaves
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH)


@pytest.mark.parametrize(
    ("effective_from", "effective_to", "issued_on", "refused"),
    [
        ("2005-07-01", None, "2005-06-30", False),
        ("2005-07-01", None, "2005-07-01", True),
        ("2005-07-01", None, "2009-01-01", True),
        ("2005-07-01", "2005-07-10", "2005-07-09", True),
        ("2005-07-01", "2005-07-10", "2005-07-10", False),  # effective_to is exclusive
        ("2005-07-01", "2005-07-10", "2005-08-01", False),  # lifted before issued_on
        ("2005-07-01", "2005-07-01", "2005-07-01", False),  # lifted the day it began
    ],
)
def test_an_embargo_applies_on_the_days_it_is_in_force_on_issued_on(
    ledger: Ledger,
    effective_from: str,
    effective_to: str | None,
    issued_on: str,
    refused: bool,
) -> None:
    basic_world(ledger)
    material_of_ci_mixed_at_gh(ledger)
    accept(ledger, embargo("E-CI", "CI", effective_from=effective_from), SECRETARIAT)
    if effective_to is not None:
        accept(ledger, lifted("E-CI", effective_to), SECRETARIAT)
    certificate = export(
        "GH-C1", "GH", "AE", ["GH-A"], "70", issued_on=issued_on, expires_on="2009-12-31"
    )
    if refused:
        refuse(ledger, certificate, GH, "embargoed_origin")
    else:
        accept(ledger, certificate, GH)
        assert lot_state(ledger, "GH-A")[0] == IN_TRANSIT  # type: ignore[index]


@pytest.mark.parametrize(("region", "refused"), [("North", True), ("South", False)])
def test_a_regional_embargo_covers_only_the_sources_of_its_region(
    ledger: Ledger, region: str, refused: bool
) -> None:
    basic_world(ledger)
    material_of_ci_mixed_at_gh(ledger)
    accept(ledger, embargo("E-CI-R", "CI", region=region), SECRETARIAT)
    certificate = export("GH-C1", "GH", "AE", ["GH-A"], "70")
    if refused:
        error = refuse(ledger, certificate, GH, "embargoed_origin")
        assert error.detail["embargo_id"] == "E-CI-R"
    else:
        accept(ledger, certificate, GH)


def test_a_regional_embargo_on_the_exporter_is_not_an_embargo_on_the_exporter(
    ledger: Ledger,
) -> None:
    basic_world(ledger)
    second_gh_lot(ledger)
    accept(ledger, mine("GH-M2", "GH", region="Western"), GH)
    accept(ledger, produced("GH-W1", "GH-M2", "5"), GH)
    accept(ledger, embargo("E-GH-E", "GH", region="Eastern"), SECRETARIAT)
    error = refuse(ledger, export("GH-C1", "GH", "AE", ["GH-L1"], "100"), GH, "embargoed_origin")
    assert error.detail["lot_id"] == "GH-L1"
    accept(ledger, export("GH-C1", "GH", "AE", ["GH-W1"], "5"), GH)


def test_an_embargoed_exporter_exports_nothing_even_of_clean_origin(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, embargo("E-GH", "GH", effective_from="2005-07-01"), SECRETARIAT)
    # GH-L1 comes from GH itself; an embargo on the origin may also be reported
    refuse(
        ledger,
        export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
        GH,
        "embargoed_exporter",
        "embargoed_origin",
    )
    # foreign material held by the embargoed exporter: only the exporter rule applies
    ship = export(
        "CI-C2", "CI", "GH", ["CI-L1"], "60", issued_on="2005-06-01", expires_on="2005-07-01"
    )
    accept(ledger, ship, CI)
    accept(ledger, confirmed("CI-C2", "60", received_on="2005-06-03"), GH)
    error = refuse(
        ledger,
        export("GH-C1", "GH", "AE", ["CI-L1"], "60", issued_on="2005-07-01"),
        GH,
        "embargoed_exporter",
    )
    assert error.detail is None or error.detail.get("embargo_id") == "E-GH"
    # before the embargo, the same certificate is accepted
    accept(
        ledger,
        export("GH-C1", "GH", "AE", ["CI-L1"], "60", issued_on="2005-06-30"),
        GH,
    )


def test_an_embargo_lifted_lets_the_exporter_trade_again(ledger: Ledger) -> None:
    basic_world(ledger)
    accept(ledger, embargo("E-CI", "CI", effective_from="2005-01-01"), SECRETARIAT)
    refuse(
        ledger,
        export("CI-C1", "CI", "AE", ["CI-L1"], "60", issued_on="2005-07-01"),
        CI,
        "embargoed_exporter",
        "embargoed_origin",
    )
    accept(ledger, lifted("E-CI", "2005-07-01"), SECRETARIAT)
    accept(ledger, export("CI-C1", "CI", "AE", ["CI-L1"], "60", issued_on="2005-07-01"), CI)
