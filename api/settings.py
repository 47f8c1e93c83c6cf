"""Settings from the environment (prefix KPLEDGER_), validated at start."""

from __future__ import annotations

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
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="largest POST /v1/events body accepted (413 beyond); 8 MiB holds "
        "10,000 documents of usual size",
    )
