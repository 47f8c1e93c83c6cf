"""The services a route takes, as `Annotated` dependencies (as `api.auth.CurrentActor`):
`def get_lot(lot_id: str, reads: ReadsDep) -> ...`. Each is the one `create_app` made and
put on `app.state`; they are async so that taking one costs no worker thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.settings import Settings
from ledger.application import Ledger
from projections.reads import Reads
from projections.screening import Screening

__all__ = ["LedgerDep", "ReadsDep", "ScreeningDep", "SettingsDep"]


async def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def _reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


async def _screening(request: Request) -> Screening:
    screening: Screening = request.app.state.screening
    return screening


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LedgerDep = Annotated[Ledger, Depends(_ledger)]
"""The write side: the log and its store."""
ReadsDep = Annotated[Reads, Depends(_reads)]
"""The read models, caught up with the log."""
ScreeningDep = Annotated[Screening, Depends(_screening)]
"""The sanctions lists loaded, and the operators screened against them."""
SettingsDep = Annotated[Settings, Depends(_settings)]
"""The service's settings."""
