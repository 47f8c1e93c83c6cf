"""KPCS rules that span aggregates: who may post what, embargoes, declared origin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from ledger.actors import Actor
from ledger.documents import MIXED_ORIGIN, Document
from ledger.embargo import Embargo
from ledger.errors import LedgerError
from ledger.lot import CONSUMED, IN_TRANSIT, SEIZED, Lot

SECRETARIAT_TYPES = frozenset(
    {
        "participant.admitted",
        "participant.suspended",
        "participant.reinstated",
        "participant.withdrawn",
        "embargo.declared",
        "embargo.lifted",
    }
)
FLAGGING_ROLES = frozenset({"investigator", "secretariat", "authority"})


@dataclass(frozen=True)
class Place:
    """Where a source is: its participant, region and kind."""

    participant: str
    region: str
    kind: str


def check_role(actor: Actor, document: Document) -> None:
    """403 unless the actor's role may post this type, and, where the document itself names
    the participant that must act, unless the actor is that participant's authority."""
    kind = document.type
    if kind in SECRETARIAT_TYPES:
        allowed = actor.role == "secretariat"
    elif kind == "lot.flagged":
        allowed = actor.role in FLAGGING_ROLES
    else:
        allowed = actor.role == "authority"
    if not allowed:
        raise LedgerError("forbidden", f"the {actor.role} role may not post {kind}")
    named = getattr(document, "exporting_participant", None)
    if kind in ("mine.registered", "alluvial_site.registered"):
        named = getattr(document, "participant", None)
    if named is not None:
        check_authority_of(actor, named, kind)


def check_authority_of(actor: Actor | None, participant: str, what: str) -> None:
    """403 unless the actor is the authority of `participant` (None: a trusted replay)."""
    if actor is None:
        return
    if actor.role != "authority" or actor.participant != participant:
        raise LedgerError(
            "forbidden",
            f"{what} belongs to the jurisdiction of {participant}, "
            f"not of {actor.participant or actor.role}",
        )


def check_usable(lot: Lot, holder: str | None) -> None:
    """409 unless the lot can be split, merged or exported by `holder` (None: any holder)."""
    if lot.status == CONSUMED:
        raise LedgerError("lot_consumed", f"lot {lot.lot_id} was already split or merged")
    if lot.status == SEIZED:
        raise LedgerError("lot_seized", f"lot {lot.lot_id} was seized")
    if lot.status == IN_TRANSIT:
        raise LedgerError(
            "lot_in_transit", f"lot {lot.lot_id} is in transit under {lot.certificate_id}"
        )
    if holder is not None and lot.holder != holder:
        raise LedgerError("lot_not_held", f"lot {lot.lot_id} is held by {lot.holder}, not {holder}")


def check_declared_origin(declared: str, places: Iterable[Place]) -> None:
    """409 unless the origin is MIXED or the one participant all the sources belong to."""
    participants = {place.participant for place in places}
    if declared == MIXED_ORIGIN or participants == {declared}:
        return
    actual = ", ".join(sorted(participants))
    raise LedgerError(
        "bad_declared_origin",
        f"declared origin {declared} does not match the lots' sources ({actual}); "
        f"declare {actual if len(participants) == 1 else MIXED_ORIGIN}",
    )


def check_exporter_not_embargoed(participant: str, embargoes: Iterable[Embargo], day: date) -> None:
    """409 when a whole-participant embargo on the exporter is in force on `day`."""
    for embargo in embargoes:
        if (
            embargo.region is None
            and embargo.participant == participant
            and embargo.in_force_on(day)
        ):
            raise LedgerError(
                "embargoed_exporter",
                f"{participant} is under embargo {embargo.embargo_id} on {day}",
                detail={"embargo_id": embargo.embargo_id},
            )


def check_origin_not_embargoed(
    lot: Lot, places: Mapping[str, Place], embargoes: Iterable[Embargo], day: date
) -> None:
    """409 when any carat of the lot comes from a source under an embargo in force on `day`."""
    for embargo in embargoes:
        if not embargo.in_force_on(day):
            continue
        covered = sum(
            (
                carats
                for source_id, carats in lot.composition.items()
                if embargo.covers(places[source_id].participant, places[source_id].region)
            ),
            Fraction(0),
        )
        if covered > 0:
            fraction = covered / Fraction(lot.carats)
            raise LedgerError(
                "embargoed_origin",
                f"lot {lot.lot_id} holds {float(covered):.4f} carats "
                f"({float(fraction):.2%}) from sources under embargo {embargo.embargo_id}",
                detail={
                    "embargo_id": embargo.embargo_id,
                    "lot_id": lot.lot_id,
                    "carats": decimal_text(covered),
                    "fraction": float(fraction),
                },
            )


def decimal_text(value: Fraction) -> str:
    """A carat or USD amount as a decimal string: exact up to 4 places, else rounded to 4.

    >>> decimal_text(Fraction(160))
    '160.00'
    >>> decimal_text(Fraction(160, 3))
    '53.3333'
    >>> decimal_text(Fraction(12345, 1000))
    '12.345'
    """
    scaled = value * 10_000
    rounded = round(scaled)
    digits = 4
    if scaled == rounded:
        while digits > 2 and rounded % 10 == 0:
            rounded //= 10
            digits -= 1
    sign = "-" if rounded < 0 else ""
    whole, part = divmod(abs(rounded), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d}"
