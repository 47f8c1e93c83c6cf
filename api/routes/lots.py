"""Routes: a lot, its provenance, its custody chain and its history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.asof import AsOfParameter
from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Custody, History, Lot, Provenance
from ledger.actors import Actor
from ledger.errors import LedgerError
from projections.reads import Reads

__all__ = ["router"]

router = APIRouter(prefix="/v1/lots", tags=["lots"])


def readable_lot(reads: Reads, actor: Actor, lot_id: str) -> Reads:
    """The read model, once the actor may read the lot: an authority only the lots its
    participant holds or has held (judged on the ledger as it stands now)."""
    if not actor.reads_everything and not reads.has_held(lot_id, actor.participant):
        raise LedgerError("forbidden", f"{actor.participant} has never held lot {lot_id!r}")
    return reads


@router.get("/{lot_id}", response_model=Lot, responses=errors(403, 404, 503))
def get_lot(lot_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter) -> Any:
    """The lot: figures, holder, status, last certificate, source, parents and children."""
    return readable_lot(reads, actor, lot_id).lot(lot_id, as_of)


@router.get("/{lot_id}/provenance", response_model=Provenance, responses=errors(403, 404, 503))
def get_provenance(lot_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter) -> Any:
    """Where the lot's carats came from, and the embargoes in force that cover them."""
    return readable_lot(reads, actor, lot_id).provenance(lot_id, as_of)


@router.get("/{lot_id}/custody", response_model=Custody, responses=errors(403, 404, 503))
def get_custody(lot_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter) -> Any:
    """One step per entry and lot it touched, for the lot and its ancestors."""
    return readable_lot(reads, actor, lot_id).custody(lot_id, as_of)


@router.get(
    "/{lot_id}/history",
    response_model=History,
    response_model_exclude_unset=True,  # `retracted_by` only on a retracted document
    responses=errors(403, 404, 503),
)
def get_history(lot_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter) -> Any:
    """Every log entry that touched the lot, shaped as in GET /v1/events."""
    return readable_lot(reads, actor, lot_id).history(lot_id, as_of)
