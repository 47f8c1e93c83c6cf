"""Investigators' triage: `alert.reviewed` records a reviewer's verdict on an alert.

Alerts are derived on the read side, so the rule "the alert exists at the instant
posted" (`unknown_alert`) asks the read side, through the `AlertCheck` the ledger is
given (`Ledger.attach_alert_check`; the server gives it its own read model). The check
runs inside the append, once the read model has caught up with every stored entry,
and is judged on the review's recording date (UTC). What that guarantees:

- An accepted review names an alert raised by the ledger as stored just before the
  insert that appended the review. Positions are dense, so an append by any other
  writer in between makes that insert collide, and the review is checked again
  against the new state (as every other rule is): a concurrent append can never slip
  between the check and the review.
- Documents appended in the same insert before the review (earlier in its own batch,
  or another request of the same group commit) are not seen by the check: post a
  review after the documents that raise its alert, not in the same batch.
- An alert, once raised, stops existing only when its conditions change (a lot
  consumed, an embargo lifted, a certificate confirmed, a new reading date); its
  review stays with its `alert_id`, and shows again whenever the alert does.

A replay of another ledger's log (`kpledger import`) takes the check as made when the
entry was first appended, as it does roles: a replay needs no read model.

No aggregate changes: reviews live on the read side only, and the journal entry is
the record.
"""

from __future__ import annotations

from datetime import UTC
from typing import Literal

from ledger.base import recorded_at
from ledger.errors import LedgerError
from ledger.fields import DocumentModel, Identifier, Text
from ledger.handling import UnitOfWork, handles

__all__ = ["REVIEW_STATUSES", "AlertReviewed"]

REVIEW_STATUSES = ("open", "confirmed", "dismissed")

ReviewStatus = Literal["open", "confirmed", "dismissed"]


class AlertReviewed(DocumentModel):
    type: Literal["alert.reviewed"]
    alert_id: Identifier
    status: ReviewStatus
    note: Text


def require_alert(work: UnitOfWork, alert_id: str) -> None:
    """409 `unknown_alert` unless the read side raises the alert on the recording date.

    Without a check attached, reviews cannot be judged: 503, never an unchecked append.
    """
    if work.alerts is None:
        raise LedgerError("store_unavailable", "this ledger has no read model to find alerts in")
    if not work.alerts(alert_id, recorded_at().astimezone(UTC).date()):
        raise LedgerError(
            "unknown_alert",
            f"no alert {alert_id!r} is raised now",
            detail={"alert_id": alert_id},
        )


@handles(AlertReviewed, roles=frozenset({"investigator", "secretariat"}))
def alert_reviewed(doc: AlertReviewed, work: UnitOfWork) -> None:
    if work.actor is not None:  # a replay's reviews were checked when first appended
        require_alert(work, doc.alert_id)
