"""The suite's Hypothesis profile (tests/conftest.py): no deadline, and derandomized in CI."""

from __future__ import annotations

import os

from hypothesis import settings


def test_no_property_has_a_deadline_and_ci_runs_the_same_examples() -> None:
    assert settings.default.deadline is None
    assert settings.get_profile("ci").derandomize is True
    assert settings.get_profile("ci").deadline is None
    if os.environ.get("CI"):
        assert settings.default.derandomize is True
