"""Settings from the environment (prefix KPLEDGER_), validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What a kpledger process is configured with."""

    model_config = SettingsConfigDict(env_prefix="KPLEDGER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="sqlite:///file.db, sqlite:////abs/file.db or postgresql://user@host/db; "
        "unset means ./kpledger.db",
    )
    value_discrepancy: float = Field(default=0.20, ge=0)
    rapid_reexport_days: int = Field(default=7, ge=0)
    signing_key: Path = Field(
        default=Path("kpledger-signing.pem"),
        description="PEM file of the Ed25519 key that signs checkpoints; created (0600) when "
        "absent",
    )
