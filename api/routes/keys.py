"""Routes: the authority keys that sign documents (`GET /v1/keys`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import AuthorityKeys
from ledger.errors import LedgerError
from ledger.protocol import PARTICIPANT_CODES

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["keys"])


@router.get("/keys", response_model=AuthorityKeys, responses=errors(503))
def get_keys(reads: ReadsDep, actor: CurrentActor, participant: str | None = None) -> Any:
    """Every authority key registered (or only `participant`'s), in order of registration:
    `{keys: [{key_id, participant, name, public_key, registered_position,
    revoked_position}]}`, `revoked_position` null while the key is in force; any token."""
    if participant is not None and participant not in PARTICIPANT_CODES:
        raise LedgerError(
            "invalid",
            "participant must be an ISO 3166-1 alpha-2 code or EU",
            detail={"field": "participant"},
        )
    return reads.keys(participant)
