"""Aggregate ids are `uuid5` of `kind:protocol_id` in the ledger's namespace, whatever the
text: `ledger.base.aggregate_id` makes them without `UUID.__init__`, and must agree."""

from __future__ import annotations

from uuid import uuid5

from hypothesis import given
from hypothesis import strategies as st

from ledger.base import NAMESPACE, aggregate_id


@given(kind=st.sampled_from(["lot", "event_id", "source"]) | st.text(), key=st.text())
def test_an_aggregate_id_is_the_uuid5_of_its_kind_and_id(kind: str, key: str) -> None:
    made = aggregate_id(kind, key)
    expected = uuid5(NAMESPACE, f"{kind}:{key}")
    assert made == expected
    assert (made.version, made.variant, str(made), hash(made)) == (
        expected.version,
        expected.variant,
        str(expected),
        hash(expected),
    )
    assert made.is_safe == expected.is_safe
