"""Routes: an operator, its licence, its sanction listings and the lots it held."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.asof import AsOfParameter
from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Operator
from ledger.errors import LedgerError

__all__ = ["router"]

router = APIRouter(prefix="/v1/operators", tags=["operators"])


@router.get("/{operator_id}", response_model=Operator, responses=errors(403, 404, 503))
def get_operator(
    operator_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter
) -> Any:
    """The operator: participant, name, roles, licence, revocation, sanction listings (in
    force on the reading date) and every lot it held. An authority reads only its own
    participant's operators."""
    # an unknown id answers an authority as another participant's does: no existence oracle
    if not actor.reads_everything and reads.operator_participant(operator_id) != actor.participant:
        raise LedgerError(
            "forbidden", f"operator {operator_id!r} is not licensed by {actor.participant}"
        )
    return reads.operator(operator_id, as_of)
