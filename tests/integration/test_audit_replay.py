"""`replay`: the projections' digest as of a position, followed entry by entry and replayed."""

from __future__ import annotations

import io

import pytest

from ledger.application import Ledger
from ledger.audit import export_log, import_log
from projections.replay import replay
from tests.integration.test_audit import ENTRIES, audited_world
from tests.support import authority, produced


def test_followed_and_replayed_projections_agree_at_every_position(ledger: Ledger) -> None:
    audited_world(ledger)
    replays = [replay(ledger, position) for position in range(ENTRIES + 1)]
    assert [found.position for found in replays] == list(range(ENTRIES + 1))
    assert all(found.same for found in replays), [found for found in replays if not found.same]
    assert [found.lots for found in replays[6:9]] == [1, 2, 4]
    assert len({found.incremental for found in replays[5:]}) == ENTRIES + 1 - 5
    assert replay(ledger, ENTRIES + 5) == replays[ENTRIES]


def test_the_digest_as_of_a_position_ignores_later_documents(ledger: Ledger) -> None:
    audited_world(ledger)
    before = replay(ledger, 9)
    ledger.post(produced("GH-L2", "GH-M1", "5"), authority("GH"))
    assert replay(ledger, 9) == before
    assert replay(ledger, ENTRIES + 1).lots == replay(ledger, ENTRIES).lots + 1


@pytest.mark.parametrize("as_of", [7, 10, ENTRIES])
def test_the_digest_is_the_same_on_an_imported_copy(
    ledger: Ledger, store_url: str, request: pytest.FixtureRequest, as_of: int
) -> None:
    audited_world(ledger)
    log = io.StringIO()
    export_log(ledger, log)
    kind = "postgresql" if store_url.startswith("sqlite") else "sqlite"
    copy = Ledger.open(request.getfixturevalue(f"{kind}_url"))
    try:
        import_log(copy, log)
        assert replay(copy, as_of) == replay(ledger, as_of)
    finally:
        copy.close()
