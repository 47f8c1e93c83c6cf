"""Roles and jurisdictions (403 `forbidden`, nothing written), and the order of checks:
401, then 422, then 403, then 409; `index` names the faulty document of a batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.protocol import HELD, SEIZED
from tests.support import (
    AUDITOR,
    INVESTIGATOR,
    SECRETARIAT,
    Actor,
    admitted,
    authority,
    basic_world,
    batch,
    confirmed,
    embargo,
    export,
    flagged,
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


def world(ledger: Ledger) -> None:
    """basic_world, plus an embargo E1 on CI and certificate GH-C1 (GH-L2, 10 ct) in
    transit from GH to AE."""
    basic_world(ledger)
    ledger.post(embargo("E1", "CI", effective_from="2006-01-01"), SECRETARIAT)
    ledger.post(produced("GH-L2", "GH-M1", "10"), GH)
    ledger.post(export("GH-C1", "GH", "AE", ["GH-L2"], "10", declared_origin="GH"), GH)


# One builder per document type, each valid for `world` when posted by the right actor.
DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "participant.admitted": lambda: admitted("ZA"),
    "participant.suspended": lambda: suspended("GH"),
    "participant.reinstated": lambda: reinstated("GH"),
    "participant.withdrawn": lambda: withdrawn("GH"),
    "embargo.declared": lambda: embargo("E2", "AE", region="Coast"),
    "embargo.lifted": lambda: lifted("E1", "2007-01-01"),
    "mine.registered": lambda: mine("GH-M2", "GH"),
    "alluvial_site.registered": lambda: site("GH-S2", "GH"),
    "alluvial_site.licence_revoked": lambda: revoked("CI-S1"),
    "lot.produced": lambda: produced("GH-L9", "GH-M1", "5"),
    "lot.split": lambda: split("GH-L1", ("GH-A", "50"), ("GH-B", "50")),
    "lots.merged": lambda: merged(["GH-A", "GH-B"], "GH-X"),
    "export.certified": lambda: export("GH-C2", "GH", "CI", ["GH-X"], "100"),
    "import.confirmed": lambda: confirmed("GH-C1", "10"),
    "lot.flagged": lambda: flagged("GH-L1"),
    "lot.seized": lambda: seized("GH-L9"),
}
SECRETARIAT_TYPES = [kind for kind in DOCUMENTS if kind.split(".")[0] in ("participant", "embargo")]
CUSTODY_TYPES = [kind for kind in DOCUMENTS if kind not in SECRETARIAT_TYPES]

FORBIDDEN: list[tuple[str, Actor, str]] = (
    [("auditor", AUDITOR, kind) for kind in DOCUMENTS]
    + [("investigator", INVESTIGATOR, kind) for kind in DOCUMENTS if kind != "lot.flagged"]
    + [("secretariat", SECRETARIAT, kind) for kind in CUSTODY_TYPES if kind != "lot.flagged"]
    + [("authority", GH, kind) for kind in SECRETARIAT_TYPES]
)


@pytest.mark.parametrize(
    ("role", "actor", "kind"),
    FORBIDDEN,
    ids=[f"{role}-{kind}" for role, _, kind in FORBIDDEN],
)
def test_a_role_posts_only_what_it_may(ledger: Ledger, role: str, actor: Actor, kind: str) -> None:
    world(ledger)
    before = lot_state(ledger, "GH-L1")
    refuse(ledger, DOCUMENTS[kind](), actor, "forbidden")
    assert lot_state(ledger, "GH-L1") == before


def test_the_roles_that_may_flag_a_lot_do(ledger: Ledger) -> None:
    world(ledger)
    for actor in (INVESTIGATOR, SECRETARIAT, GH):
        assert ledger.post(flagged("GH-L1"), actor).appended
    # while GH-L2 is in transit, its holder is still the exporter
    assert ledger.post(flagged("GH-L2"), GH).appended


def test_every_document_type_is_accepted_from_its_own_role(ledger: Ledger) -> None:
    """The control of the table above: the same documents, posted by the right actor."""
    world(ledger)
    right_actor = {
        **dict.fromkeys(SECRETARIAT_TYPES, SECRETARIAT),
        **dict.fromkeys(CUSTODY_TYPES, GH),
        "alluvial_site.licence_revoked": CI,
        "import.confirmed": AE,
    }
    order = [
        "participant.admitted",
        "embargo.declared",
        "embargo.lifted",
        "mine.registered",
        "alluvial_site.registered",
        "alluvial_site.licence_revoked",
        "lot.produced",
        "lot.flagged",
        "lot.split",
        "lots.merged",
        "export.certified",
        "import.confirmed",
        "lot.seized",
        "participant.suspended",
        "participant.reinstated",
        "participant.withdrawn",
    ]
    assert sorted(order) == sorted(DOCUMENTS)
    for kind in order:
        position = ledger.head_position()
        capture = ledger.post(DOCUMENTS[kind](), right_actor[kind])
        assert capture.appended and capture.position > position, kind


# ---------------------------------------------------------------- jurisdictions


def _jurisdiction_cases() -> dict[str, tuple[Callable[[], dict[str, Any]], Actor]]:
    return {
        "register_a_mine_for_another_participant": (lambda: mine("CI-M9", "CI"), GH),
        "register_a_site_for_another_participant": (lambda: site("CI-S9", "CI"), GH),
        "revoke_another_participants_licence": (lambda: revoked("CI-S1"), GH),
        "produce_at_another_participants_source": (
            lambda: produced("CI-L9", "CI-S1", "5"),
            GH,
        ),
        "export_as_another_participant": (
            lambda: export("CI-C9", "CI", "AE", ["CI-L1"], "60"),
            GH,
        ),
        "export_as_another_participant_lots_held_by_the_actor": (
            lambda: export("CI-C9", "CI", "AE", ["GH-L1"], "100"),
            GH,
        ),
        "confirm_another_participants_import": (lambda: confirmed("GH-C1", "10"), CI),
        "exporter_confirms_its_own_export": (lambda: confirmed("GH-C1", "10"), GH),
        "seize_a_lot_neither_held_nor_received": (lambda: seized("CI-L1"), GH),
        "seize_a_lot_in_transit_to_someone_else": (lambda: seized("GH-L2"), CI),
        "flag_a_lot_of_another_holder": (lambda: flagged("CI-L1"), GH),
        "flag_a_lot_in_transit_as_a_third_participant": (lambda: flagged("GH-L2"), CI),
    }


JURISDICTION = _jurisdiction_cases()


@pytest.mark.parametrize("name", list(JURISDICTION))
def test_an_authority_acts_only_in_its_jurisdiction(ledger: Ledger, name: str) -> None:
    world(ledger)
    build, actor = JURISDICTION[name]
    before = {lot: lot_state(ledger, lot) for lot in ("GH-L1", "GH-L2", "CI-L1", "CI-L9")}
    refuse(ledger, build(), actor, "forbidden")
    assert {lot: lot_state(ledger, lot) for lot in before} == before


def test_the_importer_may_seize_a_lot_in_transit_to_it(ledger: Ledger) -> None:
    world(ledger)
    assert ledger.post(seized("GH-L2"), AE).appended
    assert lot_state(ledger, "GH-L2")[0] == SEIZED  # type: ignore[index]


def test_the_importer_may_not_seize_the_lot_once_it_passed_on_to_another(
    ledger: Ledger,
) -> None:
    world(ledger)
    ledger.post(confirmed("GH-C1", "10"), AE)
    ledger.post(export("AE-C1", "AE", "CI", ["GH-L2"], "10"), AE)
    # GH exported it once, AE now sends it to CI: GH is neither holder nor importer
    refuse(ledger, seized("GH-L2"), GH, "forbidden")
    assert ledger.post(seized("GH-L2"), CI).appended


def test_an_authority_not_yet_admitted_registers_nothing(ledger: Ledger) -> None:
    world(ledger)
    refuse(ledger, mine("GH-M9", "GH"), authority("ZA"), "forbidden")


# ------------------------------------------------------------- order of checks


def test_422_comes_before_403_in_a_batch(ledger: Ledger) -> None:
    world(ledger)
    invalid = produced("GH-L9", "GH-M1", "-5")
    forbidden = mine("CI-M9", "CI")
    refuse(ledger, batch(forbidden, invalid), GH, "invalid", index=1)
    refuse(ledger, batch(invalid, forbidden), GH, "invalid", index=0)


def test_422_comes_before_403_for_a_single_document(ledger: Ledger) -> None:
    world(ledger)
    refuse(ledger, produced("GH-L9", "GH-M1", "0"), AUDITOR, "invalid")
    refuse(ledger, {**mine("CI-M9", "CI"), "colour": "red"}, GH, "invalid")


# The first document breaks a 409 rule (GH-L1 exists); the second is forbidden to GH
# (GH-C1 is GH's own export to AE: only AE confirms it).
FORBIDDEN_AFTER_CONFLICT: dict[str, Callable[[], dict[str, Any]]] = {
    "role": lambda: admitted("ZA"),
    "mine_of_another_participant": lambda: mine("CI-M9", "CI"),
    "export_as_another_participant": lambda: export("CI-C9", "CI", "AE", ["CI-L1"], "60"),
    "production_at_another_participants_source": lambda: produced("CI-L9", "CI-S1", "5"),
    "revocation_of_another_participants_licence": lambda: revoked("CI-S1"),
    "confirmation_of_another_participants_import": lambda: confirmed("GH-C1", "10"),
    "seizure_of_another_participants_lot": lambda: seized("CI-L1"),
    "flag_of_another_participants_lot": lambda: flagged("CI-L1"),
}


@pytest.mark.parametrize("second", list(FORBIDDEN_AFTER_CONFLICT))
def test_403_comes_before_409_in_a_batch(ledger: Ledger, second: str) -> None:
    world(ledger)
    body = batch(produced("GH-L1", "GH-M1", "5"), FORBIDDEN_AFTER_CONFLICT[second]())
    before = {lot: lot_state(ledger, lot) for lot in ("GH-L1", "GH-L2", "CI-L1")}
    refuse(ledger, body, GH, "forbidden", index=1)
    assert {lot: lot_state(ledger, lot) for lot in before} == before


def test_the_index_names_the_faulty_document_of_a_batch(ledger: Ledger) -> None:
    world(ledger)
    good = [produced(f"GH-N{n}", "GH-M1", "1") for n in range(3)]
    refuse(ledger, batch(*good, produced("GH-L1", "GH-M1", "1")), GH, "duplicate_id", index=3)
    refuse(
        ledger,
        batch(*good[:2], split("GH-L1", ("GH-A", "1"), ("GH-B", "1")), good[2]),
        GH,
        "mass_balance",
        index=2,
    )
    refuse(ledger, batch(flagged("GH-L1"), seized("CI-L1")), GH, "forbidden", index=1)
    assert all(lot_state(ledger, f"GH-N{n}") is None for n in range(3))
    assert lot_state(ledger, "GH-L1")[0] == HELD  # type: ignore[index]
