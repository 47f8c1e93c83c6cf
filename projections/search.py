"""Finding things: ids and names matching a text, and the list of participants.

`search` is a pure query over the custody state (plus the `Directory`, which keeps the
few facts `Custody` does not: mines' names and the date of each participant's latest
admission). Lots and certificates, the two large tables, are found through `IdIndex`es kept
in the `Directory` (their ids sorted case-insensitively, caught up on each search with
the ids added since): a prefix is two bisections, not a scan. The smaller tables (sources,
participants, operators) are scanned, as their names match by substring. The answer is
ordered by rank (exact id, then id prefix, then name contains), then by kind, then by id.

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

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import chain, islice
from typing import Any

from ledger import certificates as certificates_documents
from ledger import compliance as compliance_documents
from ledger import keys as keys_documents
from ledger import lots as lots_documents
from ledger import operators as operators_documents
from ledger import participants as participants_documents
from ledger import retractions as retractions_documents
from ledger import sources as sources_documents
from ledger import triage as triage_documents
from ledger.amounts import amount_text, in_units
from ledger.log import LogEntry
from projections.custody import CONSUMED, IN_TRANSIT, SEIZED, Certificate, Custody, Lot
from projections.registry import Projection, applies

__all__ = [
    "DEFAULT_LIMIT",
    "KINDS",
    "MAX_LIMIT",
    "Directory",
    "IdIndex",
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


class Directory(Projection):
    """What search and the participants list need beyond `Custody`: fed every log entry
    (after `Custody.apply`), it keeps each mine's name and the date of each participant's
    latest admission (the date of its `occurred_at` as written, in its own offset)."""

    IGNORES = frozenset(
        {
            triage_documents.AlertReviewed,
            sources_documents.AlluvialSiteLicenceRevoked,
            sources_documents.AlluvialSiteRegistered,
            keys_documents.AuthorityKeyRegistered,
            keys_documents.AuthorityKeyRevoked,
            retractions_documents.DocumentRetracted,
            participants_documents.EmbargoDeclared,
            participants_documents.EmbargoLifted,
            certificates_documents.ExportCertified,
            certificates_documents.ImportConfirmed,
            lots_documents.LotFlagged,
            lots_documents.LotProduced,
            lots_documents.LotSeized,
            lots_documents.LotSplit,
            lots_documents.LotTransferred,
            lots_documents.LotsMerged,
            operators_documents.OperatorLicenceRevoked,
            operators_documents.OperatorLicensed,
            participants_documents.ParticipantReinstated,
            participants_documents.ParticipantSuspended,
            participants_documents.ParticipantWithdrawn,
            compliance_documents.ReportSubmitted,
            compliance_documents.ReviewInvited,
            compliance_documents.RecommendationImplemented,
            compliance_documents.ReviewVisited,
            operators_documents.SanctionLifted,
            operators_documents.SanctionListed,
        }
    )

    def __init__(self) -> None:
        self.position = 0
        self.source_names: dict[str, str] = {}
        self.admitted_on: dict[str, date] = {}
        self.lot_ids = IdIndex()
        self.certificate_ids = IdIndex()

    @applies(participants_documents.ParticipantAdmitted)
    def _participant_admitted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.admitted_on[document["participant"]] = entry.occurred_at.date()

    @applies(sources_documents.MineRegistered)
    def _mine_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.source_names[document["mine_id"]] = document["name"]


def _order(identifier: str) -> tuple[str, str]:
    """The order of an `IdIndex`: case-insensitively, then as written."""
    return identifier.lower(), identifier


def _after_prefix(prefix: str) -> str | None:
    """The least text greater than every text starting with `prefix` (None: no such text)."""
    while prefix and prefix[-1] == chr(0x10FFFF):
        prefix = prefix[:-1]
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None


class IdIndex:
    """The ids of one table (a dict that only grows, as `Custody.lots`) sorted by
    `(id.lower(), id)`, in chunks of at most `2 * LOAD` so that adding one moves a chunk,
    not the whole list. It holds the table's own id strings (8 bytes each) and no lowered
    copy: bisection lowers the few ids it probes. `caught_up` takes in the ids the table
    gained since, found from its end (dicts keep insertion order); it is saved with the
    `Directory` in read-model snapshots.

    >>> index = IdIndex()
    >>> table = dict.fromkeys(["GH-2", "gh-10", "AE-1", "GH-1"])
    >>> list(index.caught_up(table).prefixed("gh-1"))
    ['GH-1', 'gh-10']
    """

    LOAD = 1000

    def __init__(self) -> None:
        self.seen = 0
        """How many of the table's ids are in the index (its first `seen`)."""
        self.chunks: list[list[str]] = []
        self.firsts: list[tuple[str, str]] = []
        """The order key of each chunk's first id."""

    def __len__(self) -> int:
        return self.seen

    def caught_up(self, table: dict[str, Any]) -> IdIndex:
        """Takes in the ids `table` gained since the last call; returns self."""
        new = len(table) - self.seen
        if new <= 0:
            return self
        if new > 64 and new * 8 > self.seen:  # many: sorting them all is cheaper
            ordered = sorted(table, key=_order)
            self.chunks = [ordered[i : i + self.LOAD] for i in range(0, len(ordered), self.LOAD)]
            self.firsts = [_order(chunk[0]) for chunk in self.chunks]
        else:
            for identifier in reversed(list(islice(reversed(table), new))):
                self._add(identifier)
        self.seen = len(table)
        return self

    def _add(self, identifier: str) -> None:
        key = _order(identifier)
        if not self.chunks:
            self.chunks, self.firsts = [[identifier]], [key]
            return
        at = max(bisect_right(self.firsts, key) - 1, 0)
        chunk = self.chunks[at]
        insort(chunk, identifier, key=_order)
        self.firsts[at] = _order(chunk[0])
        if len(chunk) > 2 * self.LOAD:
            half = len(chunk) // 2
            self.chunks[at : at + 1] = [chunk[:half], chunk[half:]]
            self.firsts[at : at + 1] = [_order(chunk[0]), _order(chunk[half])]

    def _position(self, lowered: str | None) -> tuple[int, int]:
        """(chunk, offset) of the first id whose lower case is `lowered` or after it."""
        if lowered is None:
            return len(self.chunks), 0
        at = max(bisect_left(self.firsts, (lowered, "")) - 1, 0)
        while at < len(self.chunks):
            offset = bisect_left(self.chunks[at], lowered, key=str.lower)
            if offset < len(self.chunks[at]):
                return at, offset
            at += 1
        return at, 0

    def prefixed(self, lowered: str) -> Iterator[str]:
        """The ids whose lower case starts with `lowered` (lower-cased, not empty), in the
        index's order: those equal to it first."""
        start, offset = self._position(lowered)
        end, stop = self._position(_after_prefix(lowered))
        for at in range(start, min(end + 1, len(self.chunks))):
            chunk = self.chunks[at]
            yield from chunk[offset if at == start else 0 : stop if at == end else len(chunk)]


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


def _matching(
    index: IdIndex, lowered: str, limit: int, keep: Callable[[str], bool] | None
) -> list[tuple[int, str]]:
    """(rank, id) of the ids `index` finds by prefix, those `keep` keeps: every exact
    match (they come first) and the `limit` first prefix matches by id; no other can be
    among the answer's first `limit`."""
    ids: Iterator[str] = index.prefixed(lowered)
    if keep is not None:
        ids = filter(keep, ids)
    found: list[tuple[int, str]] = []
    rest: Iterable[str] = ()
    for identifier in ids:
        if identifier.lower() != lowered:
            rest = chain((identifier,), ids)
            break
        found.append((_EXACT, identifier))
    found += ((_PREFIX, identifier) for identifier in heapq.nsmallest(limit, rest))
    return found


def _lots(
    state: Custody, text: str, reader: str | None, directory: Directory, limit: int
) -> Iterator[Hit]:
    lots = state.lots
    index = directory.lot_ids.caught_up(lots)
    keep = None if reader is None else (lambda lot_id: reader in lots[lot_id].holders)
    for rank, lot_id in _matching(index, text, limit, keep):
        yield rank, "lot", lot_id, _lot_label(lots[lot_id])


def _sources(state: Custody, text: str, reader: str | None, directory: Directory) -> Iterator[Hit]:
    for source_id, source in state.sources.items():
        if reader is not None and source.participant != reader:
            continue
        name = directory.source_names.get(source_id)
        rank = _rank(source_id, name, text)
        if rank is not None:
            what = f"mine {name}" if name else source.kind.replace("_", " ")
            yield rank, source.kind, source_id, f"{what}, {source.region} ({source.participant})"


def _certificates(
    state: Custody, text: str, reader: str | None, directory: Directory, limit: int
) -> Iterator[Hit]:
    certificates = state.certificates
    index = directory.certificate_ids.caught_up(certificates)
    keep = None
    if reader is not None:

        def keep(certificate_id: str) -> bool:
            return reader in _parties(certificates[certificate_id])

    for rank, certificate_id in _matching(index, text, limit, keep):
        yield rank, "certificate", certificate_id, _certificate_label(certificates[certificate_id])
    retracted = state.retracted
    for certificate_id in retracted.cancelled:  # few: scanned
        cancelled = retracted.cancelled_certificate(certificate_id, state.position)
        if cancelled is None or (reader is not None and reader not in _parties(cancelled)):
            continue
        cancelled_rank = _rank(certificate_id, None, text)
        if cancelled_rank is not None:
            label = f"{_certificate_label(cancelled)}, cancelled"
            yield cancelled_rank, "certificate", certificate_id, label


def _parties(certificate: Certificate) -> tuple[str, str]:
    return certificate.exporter, certificate.importer


def _certificate_label(certificate: Certificate) -> str:
    carats = amount_text(in_units(certificate.carats))
    return (
        f"certificate {certificate.exporter} → {certificate.importer}, {carats} ct, "
        f"issued {certificate.issued_on.isoformat()}"
    )


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
        found += _lots(state, lowered, reader, directory, limit)
    if "mine" in wanted or "alluvial_site" in wanted:
        found += (hit for hit in _sources(state, lowered, reader, directory) if hit[1] in wanted)
    if "certificate" in wanted:
        found += _certificates(state, lowered, reader, directory, limit)
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
