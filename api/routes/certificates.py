"""Routes: a certificate as the KPCS defines it, and its verification without an account."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import TypeAdapter, ValidationError

from api.asof import AsOfParameter
from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Certificate, CertificateCheck
from ledger.actors import Actor
from ledger.errors import LedgerError
from ledger.fields import Carats, Usd
from projections.certificates import certificate_view, verify_certificate
from projections.reads import Reads, View

__all__ = ["router"]

router = APIRouter(prefix="/v1/certificates", tags=["certificates"])

_CARATS: TypeAdapter[Decimal] = TypeAdapter(Carats)
_USD: TypeAdapter[Decimal] = TypeAdapter(Usd)


def _require_party(reads: Reads, actor: Actor, certificate_id: str) -> None:
    """403 unless the actor reads everything, or is the authority of the certificate's
    exporting or importing participant (judged on the ledger as it stands now)."""
    if actor.reads_everything:
        return

    def parties(view: View) -> tuple[str, ...]:
        certificate = view.custody.certificates.get(certificate_id)
        return () if certificate is None else (certificate.exporter, certificate.importer)

    if actor.participant not in reads.read(parties):
        raise LedgerError(
            "forbidden",
            f"{actor.participant} neither issued nor received certificate {certificate_id!r}",
        )


@router.get("/{certificate_id}", response_model=Certificate, responses=errors(403, 404, 503))
def get_certificate(
    certificate_id: str, reads: ReadsDep, actor: CurrentActor, as_of: AsOfParameter
) -> Any:
    """The certificate: the export's figures (Annex I), its status on the reading date, the
    importer's confirmation (or null) and the log positions of both. An authority reads the
    certificates its participant issued or is the importer of."""
    _require_party(reads, actor, certificate_id)
    return reads.read(
        lambda view: certificate_view(view.custody, certificate_id, view.today), as_of
    )


def _amount(adapter: TypeAdapter[Decimal], name: str, text: str) -> Decimal:
    try:
        return adapter.validate_python(text)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise LedgerError("invalid", f"{name}: {message}", detail={"field": name}) from None


@router.get("/{certificate_id}/verify", response_model=CertificateCheck, responses=errors(503))
def check_certificate(
    certificate_id: str,
    reads: ReadsDep,
    carats: Annotated[str, Query(description="the carats the paper certificate states")],
    value_usd: Annotated[str, Query(description="the value in USD it states")],
) -> dict[str, Any]:
    """Whether a certificate with that id, carats and value was issued (compared as
    decimals), and its status if so; no token needed. Nothing else is disclosed: an
    unknown id and a known one with other figures give the same answer."""
    checked_carats = _amount(_CARATS, "carats", carats)
    checked_value = _amount(_USD, "value_usd", value_usd)
    return reads.read(
        lambda view: verify_certificate(
            view.custody, certificate_id, checked_carats, checked_value, view.today
        )
    )
