"""Bearer tokens and the acting principal of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.guards import EMPTY_QUERY_VALUE
from ledger.actors import Actor
from ledger.errors import LedgerError

__all__ = ["CurrentActor", "actor_of", "authenticate", "require_reader_of_everything"]


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LedgerError("unauthenticated", "send Authorization: Bearer <token>")
    return token.strip()


def _known(request: Request, actor: Actor | None) -> Actor:
    if actor is None:
        raise LedgerError("unauthenticated", "unknown token")
    request.state.actor_name = actor.name  # for the access log: the token's name, never the token
    empty_query_value = getattr(request.state, EMPTY_QUERY_VALUE, None)
    if empty_query_value is not None:  # 401 first, then this 422 (api.guards)
        raise empty_query_value
    return actor


def actor_of(request: Request) -> Actor:
    """The actor behind the request's bearer token; 401 when missing or unknown. Blocking:
    a token this process has not met yet is looked up in the store."""
    return _known(request, request.app.state.ledger.actor_for_token(_bearer_token(request)))


async def authenticate(request: Request) -> Actor:
    """The actor behind the request's bearer token; 401 when missing or unknown.

    A token met before is answered on the event loop, from memory; only a new one is
    looked up in the store, in a worker thread (a thread hop costs a request more than
    the lookup in memory). Sets `request.state.actor_name` for the access log.
    """
    ledger = request.app.state.ledger
    actor = ledger.known_actor(_bearer_token(request))
    if actor is None:
        return await run_in_threadpool(actor_of, request)
    return _known(request, actor)


class _BearerActor(HTTPBearer):
    """The bearer scheme as OpenAPI declares it ("Authorize"), answering the actor
    (`authenticate`): one dependency a route, not the scheme and a check behind it
    (FastAPI's solving of each costs a request more than the check itself)."""

    async def __call__(self, request: Request) -> Actor:  # type: ignore[override]
        return await authenticate(request)


CurrentActor = Annotated[
    Actor,
    Depends(
        _BearerActor(
            auto_error=False,
            scheme_name="bearer",
            bearerFormat="kpl_...",
            description="a token from `kpledger token create`",
        )
    ),
]


def require_reader_of_everything(actor: Actor) -> None:
    """403 unless the actor's role reads everything (secretariat, investigator, auditor)."""
    if not actor.reads_everything:
        raise LedgerError("forbidden", f"the {actor.role} role may not read this")
