"""The interpreter's memory around long loads (projections.heap)."""

from __future__ import annotations

import gc
import platform

from projections import heap


def test_a_long_load_keeps_the_collector_off_then_freezes_what_it_made() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with heap.long_lived_objects():
        assert not gc.isenabled()
        made = [[index] for index in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)
    gc.unfreeze()  # back into the collector's reach, for the tests that follow


def test_the_free_heap_goes_back_to_the_system_on_glibc() -> None:
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert heap._TRIM is not None
    heap.release_free_heap()  # and it is harmless wherever it does nothing
