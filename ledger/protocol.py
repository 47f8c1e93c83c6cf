"""The protocol's vocabulary, shared by the write side and the read side.

Statuses, kinds and codes of PROTOCOL.md, and the one rule of periods in force
(embargoes, and every later period that reads "as embargoes").

>>> from datetime import date
>>> in_force(date(2005, 12, 15), None, date(2005, 12, 15))
True
>>> in_force(date(2005, 12, 15), date(2014, 4, 29), date(2014, 4, 29))
False
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pycountry

__all__ = [
    "ADMITTED",
    "ALLUVIAL_SITE",
    "CONSUMED",
    "HELD",
    "HS_CODES",
    "IN_TRANSIT",
    "MAX_BATCH",
    "MAX_CARATS",
    "MAX_USD",
    "MINE",
    "MIXED_ORIGIN",
    "OPERATOR_ROLES",
    "PARTICIPANT_CODES",
    "SEIZED",
    "SUSPENDED",
    "WITHDRAWN",
    "in_force",
]

# lot statuses
HELD, IN_TRANSIT, CONSUMED, SEIZED = "held", "in_transit", "consumed", "seized"
# participant statuses
ADMITTED, SUSPENDED, WITHDRAWN = "admitted", "suspended", "withdrawn"
# source kinds
MINE, ALLUVIAL_SITE = "mine", "alluvial_site"

# what an operator may be licensed for
OPERATOR_ROLES = ("miner", "digger", "buyer", "dealer", "exporter", "importer")

HS_CODES = frozenset({"7102.10", "7102.21", "7102.31"})
MIXED_ORIGIN = "MIXED"
PARTICIPANT_CODES = frozenset({c.alpha_2 for c in pycountry.countries} | {"EU"})
MAX_BATCH = 10_000
MAX_CARATS = Decimal("1000000000.00")
"""The largest amount of carats a document may give: about six years of the world's output."""
MAX_USD = Decimal("1000000000000.00")
"""The largest USD value a document may give."""


def in_force(effective_from: date, effective_to: date | None, day: date) -> bool:
    """In force on the days from `effective_from` up to the day before `effective_to`."""
    return effective_from <= day and (effective_to is None or day < effective_to)
