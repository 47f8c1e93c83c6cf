"""The rows capture writes directly are byte for byte what eventsourcing would store.

Capture writes a new `event_id` claim's row itself (`ledger.journal.claim_row`) instead
of building an `EventIdClaim` aggregate and mapping its event: the stored bytes, and so
every `events_digest` and hash of the chain, must not change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.base import recording_clock
from ledger.journal import EventIdClaim, claim_row

_moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
) | st.just(datetime(2026, 12, 3, 15, 19, 55, 345396, tzinfo=UTC))


def test_a_claim_row_is_what_the_mapper_stores(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        stamp = ledger.mapper.transcoder.types[datetime]  # type: ignore[attr-defined]

        @settings(max_examples=200, deadline=None)
        @given(
            event_id=st.text(),
            digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
            position=st.integers(min_value=1, max_value=2**63 - 1),
            moment=_moments,
        )
        def check(event_id: str, digest: str, position: int, moment: datetime) -> None:
            with recording_clock(moment):
                claim = EventIdClaim(event_id=event_id, content_digest=digest, position=position)
            (event,) = claim.collect_events()
            expected = ledger.mapper.to_stored_event(event)
            assert claim_row(event_id, digest, position, (stamp.name, stamp.encode(moment))) == (
                expected
            )

        check()
    finally:
        ledger.close()


def test_an_entry_row_is_what_the_mapper_stores(tmp_path: Path) -> None:
    from ledger.journal import JOURNAL_ID, EntryRecorded, entry_row

    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        stamp = ledger.mapper.transcoder.types[datetime]  # type: ignore[attr-defined]
        documents = st.dictionaries(
            st.text(max_size=8),
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
            max_size=6,
        )

        @settings(max_examples=200, deadline=None)
        @given(
            position=st.integers(min_value=1, max_value=2**63 - 1),
            moment=_moments,
            document=documents,
            recorded_by=st.text(),
            texts=st.tuples(st.text(), st.text(), st.text()),
        )
        def check(
            position: int,
            moment: datetime,
            document: dict[str, object],
            recorded_by: str,
            texts: tuple[str, str, str],
        ) -> None:
            events_digest, prev_hash, chained = texts
            expected = ledger.mapper.to_stored_event(
                EntryRecorded(
                    originator_id=JOURNAL_ID,
                    originator_version=position,
                    timestamp=moment,
                    document=document,
                    recorded_by=recorded_by,
                    events_digest=events_digest,
                    prev_hash=prev_hash,
                    hash=chained,
                )
            )
            assert (
                entry_row(
                    position,
                    (stamp.name, stamp.encode(moment)),
                    ledger.mapper.transcoder.encode(document),
                    recorded_by,
                    events_digest,
                    prev_hash,
                    chained,
                )
                == expected
            )

        check()
    finally:
        ledger.close()


def test_a_formed_lots_row_is_what_the_mapper_stores(tmp_path: Path) -> None:
    """`Lot.Formed.row` (capture's direct write) against eventsourcing's mapper of the same
    event, on generated lots: ids and sources of any text, amounts, exact shares."""
    from decimal import Decimal
    from fractions import Fraction

    from ledger.lots import Lot

    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    amounts = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False)
    shares = st.fractions(min_value=0, max_value=10**9, max_denominator=10**30)
    try:
        stamp = ledger.mapper.transcoder.types[datetime]  # type: ignore[attr-defined]

        @settings(max_examples=200, deadline=None)
        @given(
            lot_id=st.text(),
            carats=amounts,
            value_usd=amounts,
            holder=st.text(max_size=3),
            composition=st.dictionaries(st.text(), shares, max_size=4),
            source_id=st.none() | st.text(),
            parents=st.lists(st.text(), max_size=3),
            moment=_moments,
        )
        def check(
            lot_id: str,
            carats: Decimal,
            value_usd: Decimal,
            holder: str,
            composition: dict[str, Fraction],
            source_id: str | None,
            parents: list[str],
            moment: datetime,
        ) -> None:
            with recording_clock(moment):
                lot = Lot.form(lot_id, carats, value_usd, holder, composition, source_id, parents)
            (event,) = lot.collect_events()
            expected = ledger.mapper.to_stored_event(
                Lot.Formed(**{**vars(event), "composition": dict(composition)})
            )
            assert event.row((stamp.name, stamp.encode(moment))) == expected  # type: ignore[attr-defined]

        check()
    finally:
        ledger.close()
