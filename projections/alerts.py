"""The red flags of PROTOCOL.md, derived from the custody state on a reading date.

`today` is the reading instant's date (UTC): judged on it are the embargoes in force,
the certificates expired and the reports overdue. An alert's `alert_id` depends only on its type and
subject, so it is the same across reads and restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any

from ledger.amounts import amount_text, fraction_number, in_units
from projections import compliance
from projections.custody import CONSUMED, Composition, Custody, Embargo
from projections.operators import sanctioned_parties
from projections.shares import share_answer

if TYPE_CHECKING:
    from projections.screening import Screening

__all__ = [
    "ALERT_TYPES",
    "RAPID_REEXPORT_DAYS",
    "SEVERITIES",
    "VALUE_DISCREPANCY",
    "alert_id",
    "alerts",
    "review_status",
    "select",
    "with_reviews",
]

VALUE_DISCREPANCY = 0.20
"""`value_discrepancy`'s default threshold (`KPLEDGER_VALUE_DISCREPANCY`): a share of the
export's USD per carat."""
RAPID_REEXPORT_DAYS = 7
"""`rapid_reexport`'s default window in days (`KPLEDGER_RAPID_REEXPORT_DAYS`)."""

SEVERITIES = {
    "embargoed_origin": "high",
    "round_trip": "high",
    "sanctioned_party": "high",
    "possible_sanctions_match": "high",
    "value_discrepancy": "medium",
    "carat_discrepancy": "medium",
    "rapid_reexport": "medium",
    "capacity_exceeded": "medium",
    "report_overdue": "medium",
    "parcel_discrepancy": "medium",
    "production_value_outlier": "medium",
    "unconfirmed_certificate": "low",
}
ALERT_TYPES = tuple(SEVERITIES)


def alert_id(alert_type: str, subject: str) -> str:
    """A stable id: the first 24 hex digits of SHA-256 over type and subject.

    >>> alert_id("round_trip", "GH-7")
    'b4a97b9db6e3cfab3923c641'
    """
    return hashlib.sha256(f"{alert_type}\n{subject}".encode()).hexdigest()[:24]


def _alert(
    alert_type: str, subject: str, participant: str, position: int, **detail: Any
) -> dict[str, Any]:
    return {
        "alert_id": alert_id(alert_type, subject),
        "type": alert_type,
        "severity": SEVERITIES[alert_type],
        "subject": subject,
        "participant": participant,
        "position": position,
        "detail": detail,
        "review": None,
    }


def _embargoed_origin(state: Custody, today: date) -> Iterator[dict[str, Any]]:
    """Lots not consumed with a share from a source under an embargo in force today."""
    in_force = [embargo for embargo in state.embargoes.values() if embargo.in_force(today)]
    if not in_force:
        return
    covering = {
        source.source_id: [embargo for embargo in in_force if embargo.covers(source)]
        for source in state.sources.values()
    }
    for lot in state.lots.values():
        if lot.status == CONSUMED:
            continue
        composition = lot.composition
        covered: dict[str, list[int]] = {}  # [units, inexact amounts] by embargo
        for source_id, packed in composition.items():
            for embargo in covering[source_id]:
                summed = covered.setdefault(embargo.embargo_id, [0, 0])
                summed[0] += packed >> 1
                summed[1] += packed & 1
        if not covered:
            continue
        shares = {
            embargo_id: share_answer(
                state.lots,
                lot,
                amount,
                inexact,
                partial(_covered, state, lot.composition, state.embargoes[embargo_id]),
            )
            for embargo_id, (amount, inexact) in covered.items()
        }
        position = max(lot.created_at, *(state.embargoes[e].position for e in shares))
        yield _alert(
            "embargoed_origin",
            lot.lot_id,
            lot.holder,
            position,
            lot_id=lot.lot_id,
            embargoes=[
                {"embargo_id": embargo_id, **share} for embargo_id, share in sorted(shares.items())
            ],
        )


def _covered(state: Custody, composition: Composition, embargo: Embargo) -> set[str]:
    """The composition's sources an embargo covers."""
    return {s for s in composition.sources if embargo.covers(state.sources[s])}


def _figure_discrepancies(state: Custody, value_threshold: Fraction) -> Iterator[dict[str, Any]]:
    """Confirmed certificates whose import figures differ from the export's."""
    for certificate in state.certificates.values():
        if certificate.received_at is None or certificate.received_carats is None:
            continue
        received_value = certificate.received_value_usd or 0
        exported = Fraction(certificate.value_usd, certificate.carats)
        imported = Fraction(received_value, certificate.received_carats)
        if abs(imported - exported) > value_threshold * exported:
            yield _alert(
                "value_discrepancy",
                certificate.certificate_id,
                certificate.importer,
                certificate.received_at,
                certificate_id=certificate.certificate_id,
                export_usd_per_carat=amount_text(exported),
                import_usd_per_carat=amount_text(imported),
                threshold=fraction_number(value_threshold),
            )
        if certificate.received_carats != certificate.carats:
            yield _alert(
                "carat_discrepancy",
                certificate.certificate_id,
                certificate.importer,
                certificate.received_at,
                certificate_id=certificate.certificate_id,
                certificate_carats=amount_text(in_units(certificate.carats)),
                confirmed_carats=amount_text(in_units(certificate.received_carats)),
                difference=amount_text(in_units(certificate.received_carats - certificate.carats)),
            )


def _parcel_discrepancies(state: Custody) -> Iterator[dict[str, Any]]:
    """Confirmed certificates whose importer counted other parcels than the exporter."""
    for certificate in state.certificates.values():
        certified, received = certificate.parcels, certificate.received_parcels
        if certified is not None and received is not None and certified != received:
            yield _alert(
                "parcel_discrepancy",
                certificate.certificate_id,
                certificate.importer,
                certificate.received_at or certificate.position,
                certificate_id=certificate.certificate_id,
                certificate_parcels=certified,
                confirmed_parcels=received,
            )


def _unconfirmed_certificates(state: Custody, today: date) -> Iterator[dict[str, Any]]:
    """Certificates expired before today without an import confirmation."""
    for certificate in state.certificates.values():
        if not certificate.confirmed and certificate.expires_on < today:
            yield _alert(
                "unconfirmed_certificate",
                certificate.certificate_id,
                certificate.exporter,
                certificate.position,
                certificate_id=certificate.certificate_id,
                importing_participant=certificate.importer,
                issued_on=certificate.issued_on.isoformat(),
                expires_on=certificate.expires_on.isoformat(),
            )


def _capacity_exceeded(state: Custody) -> Iterator[dict[str, Any]]:
    """Sources whose production in a calendar year exceeded their annual capacity."""
    for source in state.sources.values():
        for year, position in source.exceeded_at.items():
            yield _alert(
                "capacity_exceeded",
                f"{source.source_id}/{year}",
                source.participant,
                position,
                source_id=source.source_id,
                year=year,
                produced_carats=amount_text(in_units(source.produced[year])),
                annual_capacity_carats=amount_text(in_units(source.capacity or 0)),
            )


def _round_trips(state: Custody) -> Iterator[dict[str, Any]]:
    """Imports of material that had left the importer through another participant."""
    for trip in state.round_trips:
        yield _alert(
            "round_trip",
            trip.certificate_id,
            trip.participant,
            trip.position,
            certificate_id=trip.certificate_id,
            lot_ids=list(trip.lot_ids),
            left_under=list(trip.left_under),
        )


def _rapid_reexports(state: Custody, max_days: int) -> Iterator[dict[str, Any]]:
    """Exports of imported material certified at most `max_days` after its receipt."""
    for reexport in state.rapid_reexports:
        if reexport.days <= max_days:
            certificate = state.certificates[reexport.certificate_id]
            yield _alert(
                "rapid_reexport",
                reexport.certificate_id,
                reexport.participant,
                reexport.position,
                certificate_id=reexport.certificate_id,
                imported_under=reexport.imported_under,
                received_on=reexport.received_on.isoformat(),
                issued_on=certificate.issued_on.isoformat(),
                days=reexport.days,
            )


def _reports_overdue(
    state: Custody, today: date, deadlines: compliance.Deadlines
) -> Iterator[dict[str, Any]]:
    """Reports owed for a year and not submitted by their due date, on `today`; the
    position is that of the admission that made the participant owe them."""
    for participant, year, kind, due_on, position in compliance.overdue(state, today, deadlines):
        yield _alert(
            "report_overdue",
            f"{participant}/{year}/{kind}",
            participant,
            position,
            year=year,
            kind=kind,
            due_on=due_on.isoformat(),
        )


def _sanctioned_parties(state: Custody, today: date) -> Iterator[dict[str, Any]]:
    """Operators under a listing in force today that hold, or held, a lot."""
    for operator, listings in sanctioned_parties(state, today):
        yield _alert(
            "sanctioned_party",
            operator.operator_id,
            operator.participant,
            max(min(operator.lots.values()), *(listing.position for listing in listings)),
            operator_id=operator.operator_id,
            listing_ids=[listing.listing_id for listing in listings],
            lots_held=list(operator.lots),
        )


def _production_value_outliers(state: Custody) -> Iterator[dict[str, Any]]:
    """Lots produced at a value per carat far from their source's recent median (see
    `projections.value_outliers`)."""
    rule = state.value_outliers.rule
    for outlier in state.value_outliers.found:
        yield _alert(
            "production_value_outlier",
            outlier.lot_id,
            outlier.participant,
            outlier.position,
            lot_id=outlier.lot_id,
            source_id=outlier.source_id,
            usd_per_carat=amount_text(Fraction(outlier.usd_per_carat)),
            median_usd_per_carat=amount_text(Fraction(outlier.median_usd_per_carat)),
            ratio=rule.ratio,
            window=rule.window,
        )


def _possible_sanctions_matches(
    state: Custody, screening: Screening | None
) -> Iterator[dict[str, Any]]:
    """Operators whose name scores at least the threshold against a company of a sanctions
    list (`projections.screening`); subject `OPERATOR/LIST/ENTRY`."""
    if screening is None:
        return
    for operator, match in screening.alerts_of(state):
        yield _alert(
            "possible_sanctions_match",
            f"{operator.operator_id}/{match.entry.key}",
            operator.participant,
            operator.position,
            **match.detail(),
        )


def alerts(
    state: Custody,
    *,
    today: date,
    value_discrepancy: float = VALUE_DISCREPANCY,
    rapid_reexport_days: int = RAPID_REEXPORT_DAYS,
    deadlines: compliance.Deadlines = compliance.DEFAULT_DEADLINES,
    screening: Screening | None = None,
) -> list[dict[str, Any]]:
    """Every alert of the state read on `today`, ordered by position, type and subject.

    >>> from projections.examples import example_entries
    >>> found = alerts(Custody.replay(example_entries()), today=date(2026, 3, 1))
    >>> for alert in found:
    ...     print(alert["type"], alert["subject"], alert["participant"], alert["position"])
    rapid_reexport GH-1 GH 12
    unconfirmed_certificate GH-1 GH 12
    embargoed_origin L-A GH 13
    embargoed_origin L-B GH 13
    """
    found = [
        *_embargoed_origin(state, today),
        *_figure_discrepancies(state, Fraction(str(value_discrepancy))),
        *_parcel_discrepancies(state),
        *_unconfirmed_certificates(state, today),
        *_capacity_exceeded(state),
        *_round_trips(state),
        *_rapid_reexports(state, rapid_reexport_days),
        *_reports_overdue(state, today, deadlines),
        *_sanctioned_parties(state, today),
        *_production_value_outliers(state),
        *_possible_sanctions_matches(state, screening),
    ]
    found.sort(key=lambda alert: (alert["position"], alert["type"], alert["subject"]))
    return found


def select(
    found: list[dict[str, Any]],
    *,
    alert_type: str | None = None,
    participant: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """The alerts of one type, one participant and/or one review status (an alert never
    reviewed is `open`).

    >>> select([{"type": "round_trip", "participant": "GH"}], participant="CI")
    []
    >>> select([{"type": "round_trip", "review": None}], status="open")
    [{'type': 'round_trip', 'review': None}]
    """
    return [
        alert
        for alert in found
        if alert_type in (None, alert["type"])
        and participant in (None, alert.get("participant"))
        and status in (None, review_status(alert))
    ]


def review_status(alert: dict[str, Any]) -> str:
    """The status of an alert's latest review, `open` when never reviewed."""
    review = alert.get("review")
    return "open" if review is None else str(review["status"])


def with_reviews(
    found: list[dict[str, Any]], reviews: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The alerts, each with its latest review (`review` null when never reviewed).

    >>> found = [{"alert_id": "a", "review": None}, {"alert_id": "b", "review": None}]
    >>> with_reviews(found, {"b": {"status": "dismissed"}})[1]["review"]
    {'status': 'dismissed'}
    """
    if not reviews:
        return found
    return [
        alert
        if alert["alert_id"] not in reviews
        else {**alert, "review": reviews[alert["alert_id"]]}
        for alert in found
    ]
