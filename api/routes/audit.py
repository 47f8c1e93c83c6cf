"""Routes: the audit of the stored log's hash chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.auth import CurrentActor, require_reader_of_everything
from ledger.audit import verify

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/verify")
def get_verify(request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Recomputes the hash chain over every stored row: `{ok, events, head}`.

    When a stored row was altered, removed, reordered or inserted, `ok` is false,
    `first_bad_position` names the first entry that no longer verifies and
    `reason` says why. Auditors, investigators and the secretariat may ask.
    """
    require_reader_of_everything(actor)
    return verify(request.app.state.ledger).to_json()
