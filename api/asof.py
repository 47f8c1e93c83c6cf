"""The `as_of` query parameter shared by the read routes: a position or an instant."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from ledger.errors import LedgerError
from projections.reads import AsOf

__all__ = ["AsOfParameter", "parse_as_of"]

_POSITION = re.compile(r"[0-9]+")
_OFFSET_SENT_AS_SPACE = re.compile(r"(T[0-9:.]+) ([0-9]{2}(:?[0-9]{2})?)$")


def parse_as_of(
    as_of: Annotated[
        str | None,
        Query(
            description="a log position (documents at or before it), or an ISO 8601 "
            "date-time with an offset (documents recorded at or before it; send + as %2B)"
        ),
    ] = None,
) -> AsOf:
    """None, a position (>= 0), or an aware date-time; anything else is 422 `invalid`.

    An offset whose `+` arrived unencoded (decoded as a space) is read as `+`.
    """
    if as_of is None:
        return None
    text = as_of.strip()
    if _POSITION.fullmatch(text):
        return int(text)
    text = _OFFSET_SENT_AS_SPACE.sub(r"\1+\2", text)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or "T" not in text.upper() or instant.utcoffset() is None:
        raise LedgerError(
            "invalid",
            "as_of must be a position (0, 1, 2, ...) or an ISO 8601 date-time with an offset",
            detail={"field": "as_of"},
        )
    return instant


AsOfParameter = Annotated[AsOf, Depends(parse_as_of)]
