"""The indexed search (`IdIndex`) answers exactly as a scan of every lot and certificate."""

from __future__ import annotations

import pickle
from datetime import date
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections import search as finding
from projections.custody import Custody

# Ids from a small alphabet so that prefixes, case variants and the characters that sort
# differently once lowered ("_" against letters, "İ" that lowers to two characters) meet.
_ID = st.text(alphabet="aAbB_-1İK\u212a", min_size=1, max_size=5)
_HOLDER = st.sampled_from(["GH", "AE", "CI"])


def _lot(holder: str) -> Any:
    return SimpleNamespace(carats=1_000_000, status="held", holder=holder, holders=(holder,))


def _certificate(exporter: str) -> Any:
    return SimpleNamespace(
        carats=1_000_000, exporter=exporter, importer="AE", issued_on=date(2026, 1, 1)
    )


def _naive(state: Custody, text: str, kind: str | None, limit: int, reader: str | None) -> Any:
    """The search as it was: a scan of both tables, then the same order."""
    lowered = text.lower()
    found = []
    if kind in (None, "lot"):
        for lot_id, lot in state.lots.items():
            rank = finding._rank(lot_id, None, lowered)
            if rank is not None and (reader is None or reader in lot.holders):
                found.append((rank, "lot", lot_id, finding._lot_label(lot)))
    if kind in (None, "certificate"):
        for certificate_id, certificate in state.certificates.items():
            if reader is not None and reader not in (certificate.exporter, certificate.importer):
                continue
            rank = finding._rank(certificate_id, None, lowered)
            if rank is not None:
                found.append((rank, "certificate", certificate_id, ""))
    found.sort(key=lambda hit: (hit[0], hit[2] != text, finding.KINDS.index(hit[1]), hit[2]))
    return [(ident, what) for _, what, ident, _ in found[:limit]]


def _indexed(state: Custody, directory: finding.Directory, text: str, **options: Any) -> Any:
    return [
        (h["id"], h["kind"]) for h in finding.search(state, text, directory=directory, **options)
    ]


@settings(max_examples=300, deadline=None)
@given(
    first=st.dictionaries(_ID, _HOLDER, max_size=40),
    later=st.dictionaries(_ID, _HOLDER, max_size=40),
    certificates=st.dictionaries(_ID, _HOLDER, max_size=20),
    queries=st.lists(_ID, min_size=1, max_size=4),
    kind=st.sampled_from([None, "lot", "certificate"]),
    limit=st.integers(1, 6),
    reader=st.sampled_from([None, "GH", "AE"]),
)
def test_indexed_search_is_the_scan(
    first: dict[str, str],
    later: dict[str, str],
    certificates: dict[str, str],
    queries: list[str],
    kind: str | None,
    limit: int,
    reader: str | None,
) -> None:
    state, directory = Custody(), finding.Directory()
    directory.lot_ids.LOAD = directory.certificate_ids.LOAD = 2  # chunks of 2 to 4 ids
    state.lots.update((lot_id, _lot(holder)) for lot_id, holder in first.items())
    state.certificates.update((c, _certificate(holder)) for c, holder in certificates.items())
    options: dict[str, Any] = {"kind": kind, "limit": limit, "reader": reader}
    for text in queries:  # queries typed as found, and each one changed in case
        for typed in (text, text.swapcase(), text[:1]):
            assert _indexed(state, directory, typed, **options) == _naive(state, typed, **options)
    # ids added one by one after the index was built, then after a snapshot's round trip
    for lot_id, holder in later.items():
        state.lots.setdefault(lot_id, _lot(holder))
        for text in queries:
            assert _indexed(state, directory, text, **options) == _naive(state, text, **options)
    directory = pickle.loads(pickle.dumps(directory))
    for text in queries + [lot_id.upper() for lot_id in later]:
        assert _indexed(state, directory, text, **options) == _naive(state, text, **options)


def test_chunks_split_and_stay_sorted() -> None:
    index, table = finding.IdIndex(), dict[str, None]()
    index.LOAD = 10
    for n in range(5000):
        table[f"L-{(n * 7919) % 5000:05d}"] = None
        if n < 100 or n % 97 == 0 or n > 4900:
            index.caught_up(table)
    index.caught_up(table)
    assert len(index.chunks) > 2
    assert all(len(chunk) <= 20 for chunk in index.chunks)
    assert [i for chunk in index.chunks for i in chunk] == sorted(table)
    assert list(index.prefixed("l-0499")) == [f"L-0499{d}" for d in range(10)]
