"""The read side of authority keys: every key registered, its participant, and the
positions of its registration and revocation (`GET /v1/keys`).

The keys are a part of the custody state (`KeyTables`), so that `as_of` replays and
snapshots carry them with everything else.
"""

from __future__ import annotations

from typing import Any

from ledger import keys
from ledger.log import LogEntry
from projections.registry import applies

__all__ = ["KeyRecord", "KeyTables", "keys_view"]


class KeyRecord:
    """One authority key as the log registered (and perhaps revoked) it."""

    __slots__ = (
        "key_id",
        "name",
        "participant",
        "public_key",
        "registered_position",
        "revoked_position",
    )

    def __init__(self, document: dict[str, Any], position: int) -> None:
        self.key_id = keys.key_id_of(document["public_key"])
        self.participant: str = document["participant"]
        self.name: str = document["name"]
        self.public_key: str = document["public_key"]
        self.registered_position = position
        self.revoked_position: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The key as `GET /v1/keys` lists it."""
        return {
            "key_id": self.key_id,
            "participant": self.participant,
            "name": self.name,
            "public_key": self.public_key,
            "registered_position": self.registered_position,
            "revoked_position": self.revoked_position,
        }


class KeyTables:
    """The authority keys of `projections.custody.Custody`, by key id in order of
    registration, and their apply methods (a part of Custody)."""

    authority_keys: dict[str, KeyRecord]

    @applies(keys.AuthorityKeyRegistered)
    def _key_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        record = KeyRecord(document, entry.position)
        self.authority_keys.setdefault(record.key_id, record)

    @applies(keys.AuthorityKeyRevoked)
    def _key_revoked(self, entry: LogEntry, document: dict[str, Any]) -> None:
        record = self.authority_keys[document["key_id"]]
        if record.revoked_position is None:
            record.revoked_position = entry.position


def keys_view(state: KeyTables, participant: str | None = None) -> dict[str, Any]:
    """`{keys: [...]}`: every key, or a participant's, in order of registration.

    >>> from projections.custody import Custody
    >>> from projections.examples import numbered
    >>> key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
    >>> state = Custody.replay(numbered([
    ...     {"type": "participant.admitted", "participant": "GH", "name": "Ghana"},
    ...     {"type": "authority_key.registered", "participant": "GH", "public_key": key,
    ...      "name": "Minerals Commission 2026"}]))
    >>> [(k["participant"], k["registered_position"], k["revoked_position"])
    ...  for k in keys_view(state)["keys"]]
    [('GH', 2, None)]
    """
    return {
        "keys": [
            record.to_json()
            for record in state.authority_keys.values()
            if participant is None or record.participant == participant
        ]
    }
