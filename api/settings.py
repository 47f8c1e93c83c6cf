"""Settings from the environment (prefix KPLEDGER_), validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from projections.alerts import RAPID_REEXPORT_DAYS, VALUE_DISCREPANCY
from projections.compliance import Deadlines, month_day
from projections.value_outliers import ValueOutlierRule

__all__ = ["Settings", "settings_problem"]


class Settings(BaseSettings):
    """What a kpledger process is configured with."""

    model_config = SettingsConfigDict(env_prefix="KPLEDGER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="sqlite:///file.db, sqlite:////abs/file.db or postgresql://user@host/db; "
        "unset means ./kpledger.db",
    )
    sole_writer: bool = Field(
        default=False,
        description="true promises that this server process is the only one that writes to "
        "the store (no other server, worker, import or replica): reads then know the log's "
        "head from their own appends and ask the store for it no more; refused with "
        "--workers above 1. A write by anything else is seen only after this process's "
        "next append",
    )
    value_discrepancy: float = Field(default=VALUE_DISCREPANCY, ge=0)
    rapid_reexport_days: int = Field(default=RAPID_REEXPORT_DAYS, ge=0)
    value_outlier: float = Field(
        default=3.0,
        gt=1,
        description="a lot produced at more than this many times (or less than its inverse "
        "times) its source's median USD per carat is a production_value_outlier",
    )
    value_outlier_window: int = Field(
        default=20, ge=1, description="how many of a source's previous lots that median is of"
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="largest POST /v1/events body accepted (413 beyond); 8 MiB holds "
        "10,000 documents of usual size",
    )
    signing_key: Path = Field(
        default=Path("kpledger-signing.pem"),
        description="PEM file of the Ed25519 key that signs checkpoints; created (0600) when "
        "absent",
    )
    snapshot: str = Field(
        default="",
        description="file of the read-model snapshot a server loads on start and saves as "
        "the log grows and on stop; unset means next to the SQLite file "
        "(<stem>.readmodel.snapshot) or ./kpledger-readmodel.snapshot; off disables",
    )
    snapshot_every: int = Field(
        default=100_000,
        ge=1,
        description="entries applied since the last snapshot that make a new one",
    )
    sanctions_lists: Path | None = Field(
        default=None,
        description="folder of sanctions list files screened against (UN Security Council "
        "Consolidated List XML, FollowTheMoney entity files), read at start and on SIGHUP; "
        "unset means no screening (kpledger demo: the demo's lists)",
    )
    screening_threshold: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="the least name-matching score that raises possible_sanctions_match",
    )
    statistics_due: str = Field(
        default="03-31", description="MM-DD of year Y+1 when the statistics of Y are due"
    )
    annual_report_due: str = Field(
        default="06-30", description="MM-DD of year Y+1 when the annual report of Y is due"
    )

    log_origin: str = Field(
        default="kpledger",
        description="the origin line of the log's checkpoints (c2sp.org/tlog-checkpoint) and "
        "the key name of its signature",
    )
    witnesses: Path | None = Field(
        default=None,
        description="file naming the witnesses: one per line, its cosignature/v1 vkey, a space "
        "and the URL prefix of its add-checkpoint; unset means no witness",
    )
    witness_quorum: int | None = Field(
        default=None, ge=1, description="cosignatures a published checkpoint needs; all by default"
    )
    checkpoint_interval: float = Field(
        default=5.0, gt=0, description="seconds between checkpoints signed after appends, at least"
    )

    log_format: Literal["text", "json"] = Field(
        default="text", description="stderr lines: text, or one JSON object a line"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the least severe level logged; info shows every request"
    )
    metrics: Literal["token", "open", "off"] = Field(
        default="token",
        description="GET /metrics: token (only to tokens that read everything), open (no "
        "token: for a scraper on a private network), off (404)",
    )

    @field_validator("log_format", "log_level", "metrics", mode="before")
    @classmethod
    def _any_case(cls, text: object) -> object:
        return text.lower() if isinstance(text, str) else text

    @field_validator("log_origin")
    @classmethod
    def _a_key_name(cls, origin: str) -> str:
        if not origin or any(character.isspace() or character == "+" for character in origin):
            raise ValueError("an origin is non-empty, without spaces or '+'")
        return origin

    @field_validator("witnesses", "witness_quorum", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`KPLEDGER_WITNESSES=` (as a compose file writes "none") means no witness, not
        the current folder; a blank quorum, the default."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("witnesses")
    @classmethod
    def _witnesses_readable(cls, path: Path | None) -> Path | None:
        if path is not None:
            from ledger.witnessing import read_witnesses

            read_witnesses(path)  # WitnessingError is a ValueError: one line at start
        return path

    @field_validator("statistics_due", "annual_report_due")
    @classmethod
    def _a_day_of_every_year(cls, text: str) -> str:
        month_day(text)
        return text

    @property
    def value_outliers(self) -> ValueOutlierRule:
        """The rule of alert production_value_outlier."""
        return ValueOutlierRule(self.value_outlier, self.value_outlier_window)

    @property
    def deadlines(self) -> Deadlines:
        """When the reports of a year are due."""
        return Deadlines.parse(self.statistics_due, self.annual_report_due)


def settings_problem(error: ValidationError) -> str:
    """One line naming the environment variable at fault and why."""
    first = error.errors()[0]
    name = "_".join(str(part) for part in first["loc"]).upper()
    message = first["msg"].removeprefix("Value error, ")
    return f"KPLEDGER_{name}: {message}"
