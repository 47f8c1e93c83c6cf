"""Finding things: ids and names matching a text, and the list of participants.

`search` is a pure query over the custody state (plus the `Directory`, which keeps the
few facts `Custody` does not: mines' names and the date of each participant's latest
admission). It scans the tables once per request; the answer is ordered by rank (exact
id, then id prefix, then name contains), then by kind, then by id.

>>> from projections.examples import example_entries
>>> entries = list(example_entries())
>>> state, directory = Custody.replay(entries), Directory()
>>> for entry in entries:
...     directory.apply(entry)
>>> [hit["id"] for hit in search(state, "l-", directory=directory)]
['L-A', 'L-B', 'L-CI', 'L-GH', 'L-MIX']
>>> search(state, "gh", directory=directory)[0]
{'id': 'GH', 'kind': 'participant', 'label': 'Ghana'}
>>> search(state, "AKWA", directory=directory)
[{'id': 'M-GH', 'kind': 'mine', 'label': 'mine Akwatia, Eastern (GH)'}]
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from ledger.amounts import amount_text, in_units
from ledger.log import LogEntry
from projections.custody import CONSUMED, IN_TRANSIT, SEIZED, Custody, Lot

__all__ = [
    "DEFAULT_LIMIT",
    "KINDS",
    "MAX_LIMIT",
    "Directory",
    "participants",
    "search",
]

KINDS = ("lot", "mine", "alluvial_site", "certificate", "participant", "operator")
"""The kinds of ids `GET /v1/search` finds, in the order ties are listed."""

DEFAULT_LIMIT = 20
MAX_LIMIT = 200

_EXACT, _PREFIX, _NAME = 0, 1, 2

Hit = tuple[int, str, str, str]
"""(rank, kind, id, label) of one match."""


class Directory:
    """What search and the participants list need beyond `Custody`: fed every log entry
    (after `Custody.apply`), it keeps each mine's name and the date of each participant's
    latest admission (the date of its `occurred_at` as written, in its own offset)."""

    def __init__(self) -> None:
        self.source_names: dict[str, str] = {}
        self.admitted_on: dict[str, date] = {}

    def apply(self, entry: LogEntry) -> None:
        """Takes one accepted log entry into account."""
        document = entry.document
        if entry.type == "participant.admitted":
            self.admitted_on[document["participant"]] = datetime.fromisoformat(
                document["occurred_at"]
            ).date()
        elif entry.type == "mine.registered":
            self.source_names[document["mine_id"]] = document["name"]


def _rank(identifier: str, name: str | None, text: str) -> int | None:
    """0 exact id, 1 id prefix, 2 name contains, None no match (`text` is lower-cased)."""
    lowered = identifier.lower()
    if lowered == text:
        return _EXACT
    if lowered.startswith(text):
        return _PREFIX
    if name is not None and text in name.lower():
        return _NAME
    return None


def _lot_label(lot: Lot) -> str:
    carats = amount_text(in_units(lot.carats))
    if lot.status == IN_TRANSIT:
        return f"lot {carats} ct in transit from {lot.holder}"
    if lot.status in (CONSUMED, SEIZED):
        return f"lot {carats} ct, {lot.status} (last held by {lot.holder})"
    return f"lot {carats} ct held by {lot.holder}"


def _lots(state: Custody, text: str, reader: str | None) -> Iterator[Hit]:
    for lot_id, lot in state.lots.items():
        rank = _rank(lot_id, None, text)
        if rank is not None and (reader is None or reader in lot.holders):
            yield rank, "lot", lot_id, _lot_label(lot)


def _sources(state: Custody, text: str, reader: str | None, directory: Directory) -> Iterator[Hit]:
    for source_id, source in state.sources.items():
        if reader is not None and source.participant != reader:
            continue
        name = directory.source_names.get(source_id)
        rank = _rank(source_id, name, text)
        if rank is not None:
            what = f"mine {name}" if name else source.kind.replace("_", " ")
            yield rank, source.kind, source_id, f"{what}, {source.region} ({source.participant})"


def _certificates(state: Custody, text: str, reader: str | None) -> Iterator[Hit]:
    for certificate_id, certificate in state.certificates.items():
        if reader is not None and reader not in (certificate.exporter, certificate.importer):
            continue
        rank = _rank(certificate_id, None, text)
        if rank is not None:
            carats = amount_text(in_units(certificate.carats))
            label = (
                f"certificate {certificate.exporter} → {certificate.importer}, {carats} ct, "
                f"issued {certificate.issued_on.isoformat()}"
            )
            yield rank, "certificate", certificate_id, label


def _participants(state: Custody, text: str) -> Iterator[Hit]:
    for code, participant in state.participants.items():
        rank = _rank(code, participant.name, text)
        if rank is not None:
            status = "" if participant.status == "admitted" else f" ({participant.status})"
            yield rank, "participant", code, f"{participant.name}{status}"


def _operators(state: Custody, text: str, reader: str | None) -> Iterator[Hit]:
    """Operators by id or name; an authority finds its own participant's only."""
    for operator_id, operator in state.operators.items():
        if reader is not None and operator.participant != reader:
            continue
        rank = _rank(operator_id, operator.name, text)
        if rank is not None:
            yield rank, "operator", operator_id, f"{operator.name} ({operator.participant})"


def search(
    state: Custody,
    text: str,
    *,
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    reader: str | None = None,
    directory: Directory | None = None,
) -> list[dict[str, Any]]:
    """`GET /v1/search`: ids starting with `text` or names containing it, case-insensitively,
    of one `kind` or all; at most `limit`, exact id matches first. `reader` is the acting
    authority's participant, None for a role that reads everything: an authority finds the
    lots its participant holds or has held, the certificates it issued or received, its own
    sources, and every participant.

    >>> from projections.examples import example_entries
    >>> state = Custody.replay(example_entries())
    >>> [hit["id"] for hit in search(state, "L-A", kind="lot")]
    ['L-A']
    >>> [hit["id"] for hit in search(state, "l-", kind="lot", limit=2)]
    ['L-A', 'L-B']
    >>> [hit["id"] for hit in search(state, "l-", reader="CI")]  # CI only held L-CI
    ['L-CI']
    >>> search(state, "GH-1", kind="certificate")[0]["label"]
    'certificate GH → AE, 160.00 ct, issued 2026-01-15'
    >>> search(state, "GH", kind="operator")
    []
    """
    lowered = text.lower()
    directory = directory or Directory()
    wanted = KINDS if kind is None else (kind,)
    found: list[Hit] = []
    if "lot" in wanted:
        found += _lots(state, lowered, reader)
    if "mine" in wanted or "alluvial_site" in wanted:
        found += (hit for hit in _sources(state, lowered, reader, directory) if hit[1] in wanted)
    if "certificate" in wanted:
        found += _certificates(state, lowered, reader)
    if "participant" in wanted:
        found += _participants(state, lowered)
    if "operator" in wanted:
        found += _operators(state, lowered, reader)
    found.sort(key=lambda hit: (hit[0], hit[2] != text, KINDS.index(hit[1]), hit[2]))
    return [{"id": ident, "kind": what, "label": label} for _, what, ident, label in found[:limit]]


def participants(state: Custody, directory: Directory) -> list[dict[str, Any]]:
    """`GET /v1/participants`: every participant ever admitted, by code, with its status
    and the date of its latest admission.

    >>> from projections.examples import example_entries
    >>> entries = list(example_entries())
    >>> state, directory = Custody.replay(entries), Directory()
    >>> for entry in entries:
    ...     directory.apply(entry)
    >>> first = participants(state, directory)[0]
    >>> first["participant"], first["name"], first["status"], first["admitted_on"]
    ('AE', 'United Arab Emirates', 'admitted', '2026-01-01')
    """
    listed = []
    for code in sorted(directory.admitted_on):
        participant = state.participants.get(code)
        if participant is None:
            continue
        listed.append(
            {
                "participant": code,
                "name": participant.name,
                "status": participant.status,
                "admitted_on": directory.admitted_on[code].isoformat(),
            }
        )
    return listed
