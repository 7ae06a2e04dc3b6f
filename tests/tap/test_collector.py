"""tap_coupa.collector: the cyclic collector steps aside while a stream reads, and comes back."""

from __future__ import annotations

import gc
import io
import weakref
from contextlib import redirect_stdout
from typing import Any

from tap_coupa import collector
from tap_coupa.tap import TapCoupa
from tests.tap.conftest import parse_messages


class Cycle:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_cyclic_garbage_is_still_collected_during_a_read() -> None:
    before = gc.get_threshold()
    with collector.reading():
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        kept = []
        while gone() is not None and len(kept) < 20 * collector.READ_THRESHOLD:
            kept.append([])  # net container allocations: the collector runs at the threshold
        assert gone() is None, "no collection during the read"
        assert len(kept) < 2 * collector.READ_THRESHOLD  # about the threshold, not never
    assert gc.get_threshold() == before


def test_a_read_inside_a_read_leaves_the_outer_ones_freeze_and_threshold() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collector.reading():
        raised = gc.get_threshold()
        assert raised[0] == max(collector.READ_THRESHOLD, before[0])
        assert gc.get_freeze_count() > 0
        for _ in range(2):  # a sub-resource read per parent record
            with collector.reading():
                assert gc.get_threshold() == raised
            assert gc.get_threshold() == raised
            # Still frozen (an unfreeze leaves none; frozen objects that die leave the count).
            assert gc.get_freeze_count() > 0
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen)


class Observed(io.BytesIO):
    """stdout's bytes, noting the collector's threshold at every write the tap makes."""

    def __init__(self) -> None:
        super().__init__()
        self.thresholds: list[int] = []

    def write(self, data: Any) -> int:
        self.thresholds.append(gc.get_threshold()[0])
        return super().write(data)


def test_a_sync_reads_with_the_raised_threshold_and_puts_it_back(
    config: dict[str, Any], invoices_catalog: dict[str, Any]
) -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    raw = Observed()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    with redirect_stdout(out):
        TapCoupa(config=config, catalog=invoices_catalog, parse_env_config=False).sync_all()
    out.flush()
    records = [m for m in parse_messages(raw.getvalue().decode()) if m["type"] == "RECORD"]
    assert len(records) == 120  # the session emulator's invoices
    # Written while the stream read (a full chunk, a checkpoint): the threshold was raised.
    assert max(collector.READ_THRESHOLD, before[0]) in raw.thresholds
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen)
