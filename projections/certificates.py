"""Pure queries over the custody state: a certificate as the KPCS defines it, and the
check a customs officer makes of a paper certificate without an account.

A certificate's `status` is judged on the reading date: `confirmed` once the importer
confirmed receipt; otherwise `seized` once any of its lots was seized while in transit
under it (a seized lot can no longer be confirmed, so the certificate never will be);
otherwise `expired` when its `expires_on` is before the reading date; otherwise
`in_transit`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.amounts import amount_text, cents, in_units
from ledger.errors import LedgerError
from projections.custody import Certificate, Custody
from projections.retractions import CANCELLED

__all__ = [
    "CERTIFICATE_STATUSES",
    "CONFIRMED",
    "EXPIRED",
    "IN_TRANSIT",
    "SEIZED",
    "certificate_status",
    "certificate_view",
    "find_certificate",
    "verify_certificate",
]

IN_TRANSIT, CONFIRMED, EXPIRED, SEIZED = "in_transit", "confirmed", "expired", "seized"
CERTIFICATE_STATUSES = (IN_TRANSIT, CONFIRMED, EXPIRED, SEIZED, CANCELLED)


def find_certificate(state: Custody, certificate_id: str) -> Certificate:
    """The certificate with that id; `not_found` when there is none.

    >>> from projections.examples import example_entries
    >>> find_certificate(Custody.replay(example_entries()), "GH-1").importer
    'AE'
    """
    certificate = state.certificates.get(certificate_id)
    if certificate is None:
        certificate = state.retracted.cancelled_certificate(certificate_id, state.position)
    if certificate is None:
        raise LedgerError("not_found", f"no certificate {certificate_id!r}")
    return certificate


def _status(state: Custody, certificate: Certificate, today: date) -> str:
    """`cancelled` when its export was retracted (`projections.retractions`), else
    `certificate_status`."""
    if certificate.certificate_id not in state.certificates:
        return CANCELLED
    return certificate_status(certificate, today)


def certificate_status(certificate: Certificate, today: date) -> str:
    """`confirmed`, `seized`, `expired` or `in_transit`, in that order of precedence.

    >>> from projections.examples import example_entries
    >>> state = Custody.replay(example_entries())
    >>> certificate_status(state.certificates["CI-1"], date(2026, 6, 1))
    'confirmed'
    >>> [certificate_status(state.certificates["GH-1"], day)
    ...  for day in (date(2026, 2, 15), date(2026, 2, 16))]
    ['in_transit', 'expired']
    """
    if certificate.received_at is not None:
        return CONFIRMED
    if certificate.seized_at is not None:
        return SEIZED
    if certificate.expires_on < today:
        return EXPIRED
    return IN_TRANSIT


def _amount(hundredths: int) -> str:
    return amount_text(in_units(hundredths))


def certificate_view(state: Custody, certificate_id: str, today: date) -> dict[str, Any]:
    """GET /v1/certificates/{certificate_id}: the export's figures, the importer's, and
    the log positions of the certification and the confirmation.

    >>> from projections.examples import example_entries
    >>> view = certificate_view(Custody.replay(example_entries()), "CI-1", date(2026, 6, 1))
    >>> view["status"], view["confirmation"]["received_on"], view["positions"]
    ('confirmed', '2026-01-12', {'certified': 8, 'confirmed': 9})
    """
    certificate = find_certificate(state, certificate_id)
    confirmation = None
    if certificate.received_at is not None:
        confirmation = {
            "carats": _amount(certificate.received_carats or 0),
            "value_usd": _amount(certificate.received_value_usd or 0),
            "parcels": certificate.received_parcels,
            "received_on": certificate.received_on.isoformat() if certificate.received_on else None,
        }
    authority = certificate.issuing_authority
    return {
        "certificate_id": certificate.certificate_id,
        "exporting_participant": certificate.exporter,
        "importing_participant": certificate.importer,
        "exporter": {"name": certificate.exporter_name},
        "importer": {"name": certificate.importer_name},
        "issuing_authority": None if authority is None else {"name": authority},
        "hs_code": certificate.hs_code,
        "carats": _amount(certificate.carats),
        "value_usd": _amount(certificate.value_usd),
        "parcels": certificate.parcels,
        "declared_origin": certificate.declared_origin,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "lot_ids": list(certificate.lot_ids),
        "status": _status(state, certificate, today),
        "confirmation": confirmation,
        "positions": {"certified": certificate.position, "confirmed": certificate.received_at},
    }


def _figures(carats: int | None, value_usd: int | None) -> bytes:
    """A fixed-length digest of figures in hundredths (None: no certificate, never equal)."""
    return hashlib.sha256(f"{carats}/{value_usd}".encode()).digest()


def verify_certificate(
    state: Custody, certificate_id: str, carats: Decimal, value_usd: Decimal, today: date
) -> dict[str, Any]:
    """GET /v1/certificates/{certificate_id}/verify: whether a certificate with that id,
    carats and value was issued (as decimals: 1000 and 1000.00 are equal), and its status
    if so. Nothing else is disclosed: an unknown id and wrong figures give the same answer,
    and the same work is done for both (one lookup, one constant-time comparison).

    >>> from projections.examples import example_entries
    >>> state = Custody.replay(example_entries())
    >>> verify_certificate(state, "GH-1", Decimal("160"), Decimal("21000.00"), date(2026, 2, 1))
    {'certificate_id': 'GH-1', 'genuine': True, 'status': 'in_transit'}
    >>> verify_certificate(state, "GH-1", Decimal("160"), Decimal("21000.01"), date(2026, 2, 1))
    {'certificate_id': 'GH-1', 'genuine': False, 'status': None}
    """
    certificate = state.certificates.get(certificate_id) or state.retracted.cancelled_certificate(
        certificate_id, state.position
    )
    if certificate is None:
        issued = _figures(None, None)
    else:
        issued = _figures(certificate.carats, certificate.value_usd)
    genuine = hmac.compare_digest(issued, _figures(cents(carats), cents(value_usd)))
    status = _status(state, certificate, today) if genuine and certificate else None
    return {"certificate_id": certificate_id, "genuine": genuine, "status": status}
