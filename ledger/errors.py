"""LedgerError and the protocol's error codes; api/ maps them to HTTP statuses."""

from __future__ import annotations

from typing import Any

__all__ = ["CONFLICT_CODES", "SIGNATURE_CODES", "STATUS_BY_CODE", "LedgerError"]

CONFLICT_CODES = frozenset(
    {
        "event_id_reused",
        "duplicate_id",
        "unknown_participant",
        "participant_inactive",
        "same_participant",
        "unknown_source",
        "licence_invalid",
        "unknown_lot",
        "lot_not_held",
        "lot_in_transit",
        "lot_consumed",
        "lot_seized",
        "mass_balance",
        "bad_certificate_id",
        "bad_hs_code",
        "bad_dates",
        "bad_declared_origin",
        "embargoed_exporter",
        "embargoed_origin",
        "unknown_certificate",
        "already_confirmed",
        "unknown_embargo",
        "unknown_review",
        "bad_operator_id",
        "unknown_operator",
        "sanctioned_party",
        "operator_mismatch",
        "unknown_listing",
        "unknown_alert",
        "unknown_document",
        "already_retracted",
        "not_retractable",
        "retraction_blocked",
    }
)

SIGNATURE_CODES = frozenset({"signature_required", "unknown_key", "bad_signature"})
"""A document's signature refused at capture (403); `unknown_key` is also the 409 of
revoking a key that was never registered (given with `status=409`)."""

STATUS_BY_CODE: dict[str, int] = {
    "unauthenticated": 401,
    "forbidden": 403,
    **dict.fromkeys(SIGNATURE_CODES, 403),
    "not_found": 404,
    "method_not_allowed": 405,
    "invalid": 422,
    "document_too_large": 422,  # its Merkle leaf exceeds an entry bundle's 65,535 bytes
    "too_large": 413,
    "unsupported_media_type": 415,  # a body neither JSON nor CSV
    "unsupported_charset": 415,  # a charset other than UTF-8 (CSV: Latin-1, Windows-1252)
    "internal": 500,
    "write_conflict": 503,
    "store_unavailable": 503,
    "unavailable": 503,  # the store does not answer: nothing was done
    "outcome_unknown": 503,  # the store went away after a write was sent
    "read_model_failed": 503,  # an entry could not be applied: reads stop rather than lie
    "read_only_replica": 403,  # a replica takes no writes: post to its source
    "behind": 503,  # a replica does not hold min_position yet
    **dict.fromkeys(CONFLICT_CODES, 409),
}


class LedgerError(Exception):
    """A refused request: a protocol error code, a message for people, and where it happened."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        index: int = 0,
        detail: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.message = message
        self.index = index
        self.detail = detail
        self._status = status

    @property
    def status(self) -> int:
        """The HTTP status the protocol gives this code (or the one it was given)."""
        return self._status or STATUS_BY_CODE[self.code]

    def at(self, index: int) -> LedgerError:
        """This error, placed at position `index` of a batch."""
        self.index = index
        return self

    def to_body(self) -> dict[str, Any]:
        """The protocol's error body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "index": self.index}
        if self.detail is not None:
            error["detail"] = self.detail
        return {"error": error}

    def __repr__(self) -> str:
        return f"LedgerError({self.code!r}, {self.message!r}, index={self.index})"
