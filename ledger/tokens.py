"""API tokens: only a token's SHA-256 is stored, with its role, participant and name."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id

TOKEN_PREFIX = "kpl_"


def new_token() -> str:
    """A fresh random bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
