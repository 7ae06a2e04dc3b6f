"""The one-page read-ahead keeps order, passes errors through and stops with its consumer."""

from __future__ import annotations

import threading
import time

import pytest

from tap_coupa.prefetch import read_ahead


def test_order_and_completeness():
    assert list(read_ahead(range(237), chunk=50)) == list(range(237))
    assert list(read_ahead([], chunk=50)) == []


def test_errors_reach_the_consumer_after_the_items_before_them():
    def source():
        yield from range(60)
        raise ValueError("page 2 failed")

    seen = []
    with pytest.raises(ValueError, match="page 2 failed"):
        seen.extend(read_ahead(source(), chunk=50))
    assert seen == list(range(60))


def test_producer_stays_bounded_and_stops_with_the_consumer():
    produced = []

    def source():
        for i in range(10_000):
            produced.append(i)
            yield i

    items = read_ahead(source(), chunk=50, depth=1, name="bounded-test")
    assert next(items) == 0
    time.sleep(0.3)
    # One chunk handed over, one queued, one being filled: never the whole source.
    assert len(produced) <= 4 * 50
    items.close()
    time.sleep(0.5)
    assert not any(t.name == "bounded-test" and t.is_alive() for t in threading.enumerate())
