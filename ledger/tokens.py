"""API tokens: only a token's SHA-256 is stored, with its role, participant and name.

A token may carry an expiry instant and may be revoked; a serving process notes when
a token was last used (`Used`, at most once an hour per token and process). Its `id`
is the start of its digest, safe to show: it tells nothing of the token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event
from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.base import LedgerAggregate, aggregate_id

__all__ = [
    "TOKEN_PREFIX",
    "TOKEN_TOPICS",
    "ApiToken",
    "TokenState",
    "new_token",
    "token_digest",
    "token_id",
]

TOKEN_PREFIX = "kpl_"
ID_LENGTH = 12
"""Hex digits of a token's digest shown as its id (`kpledger token list`)."""


def new_token() -> str:
    """A fresh random bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id(digest: str) -> str:
    """The id shown for a token: the first hex digits of its digest."""
    return digest[:ID_LENGTH]


class ApiToken(LedgerAggregate):
    """A bearer token's hash and what it allows."""

    @staticmethod
    def create_id(digest: str) -> UUID:
        return aggregate_id("token", digest)

    class Issued(LedgerAggregate.Created):
        digest: str
        role: str
        name: str
        participant: str | None

    @event(Issued)
    def __init__(self, digest: str, role: str, name: str, participant: str | None) -> None:
        self.digest = digest
        self.role = role
        self.name = name
        self.participant = participant
        self.expires_at: datetime | None = None
        self.revoked_at: datetime | None = None
        self.last_used: datetime | None = None

    class ExpirySet(LedgerAggregate.Event):
        expires_at: datetime

    @event(ExpirySet)
    def expire_at(self, expires_at: datetime) -> None:
        """The token is refused from `expires_at` on."""
        self.expires_at = expires_at

    class Revoked(LedgerAggregate.Event):
        at: datetime

    @event(Revoked)
    def revoke(self, at: datetime) -> None:
        """The token is refused from now on, by every process within a second."""
        self.revoked_at = at

    class Used(LedgerAggregate.Event):
        at: datetime

    @event(Used)
    def note_use(self, at: datetime) -> None:
        """A serving process met the token (recorded at most once an hour)."""
        self.last_used = at

    @property
    def state(self) -> TokenState:
        """What a process keeps of the token."""
        return TokenState(
            actor=Actor(role=self.role, name=self.name, participant=self.participant),  # type: ignore[arg-type]
            expires_at=getattr(self, "expires_at", None),
            revoked=getattr(self, "revoked_at", None) is not None,
        )


@dataclass(frozen=True, slots=True)
class TokenState:
    """A token as a serving process remembers it."""

    actor: Actor
    expires_at: datetime | None
    revoked: bool

    def valid_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


TOKEN_TOPICS = frozenset(
    get_topic(kind)
    for kind in (ApiToken.Issued, ApiToken.ExpirySet, ApiToken.Revoked, ApiToken.Used)
)
"""The stored topics of tokens' events: no part of the log (`kpledger verify` skips them)."""
