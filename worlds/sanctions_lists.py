"""The demonstration's sanctions lists: `worlds/sanctions/`, a UN Security Council
Consolidated List file and a FollowTheMoney entity file, both fictional and small.

The UN file lists the demo's Accra exporter under a slightly different name
("ACCRA ROUGH DIAMOND EXPORTS LIMITED"), so that `kpledger demo` shows a
`possible_sanctions_match` from the first minute; `kpledger demo` screens against this
folder unless `KPLEDGER_SANCTIONS_LISTS` names another.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_LISTS"]

DEMO_LISTS = Path(__file__).resolve().parent / "sanctions"
