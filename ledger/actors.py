"""Who acts: the four roles of the protocol and the participant an authority is bound to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLES", "Actor", "Role"]

Role = Literal["secretariat", "authority", "investigator", "auditor"]
ROLES: tuple[Role, ...] = ("secretariat", "authority", "investigator", "auditor")


@dataclass(frozen=True, slots=True)
class Actor:
    """The holder of an API token: a role, a name, and for an authority its participant."""

    role: Role
    name: str
    participant: str | None = None

    @property
    def reads_everything(self) -> bool:
        """Secretariat, investigators and auditors read every GET of the protocol."""
        return self.role != "authority"
