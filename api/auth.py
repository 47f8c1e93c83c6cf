"""Bearer tokens and the acting principal of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.actors import Actor
from ledger.errors import LedgerError

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="kpl_...",
    description="a token from `kpledger token create`",
)
"""Declares the bearer scheme to OpenAPI ("Authorize"); `authenticate` checks the header."""


def authenticate(
    request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
) -> Actor:
    """The actor behind the request's bearer token; 401 when missing or unknown.

    Sets `request.state.actor_name` for the access log (the token's name, never the token).
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LedgerError("unauthenticated", "send Authorization: Bearer <token>")
    actor = request.app.state.ledger.actor_for_token(token.strip())
    if actor is None:
        raise LedgerError("unauthenticated", "unknown token")
    request.state.actor_name = actor.name
    return actor


CurrentActor = Annotated[Actor, Depends(authenticate)]


def require_reader_of_everything(actor: Actor) -> None:
    """403 unless the actor's role reads everything (secretariat, investigator, auditor)."""
    if not actor.reads_everything:
        raise LedgerError("forbidden", f"the {actor.role} role may not read this")
