"""One rate controller per run: 429 storms with and without Retry-After, counted and logged."""

from __future__ import annotations

import io
import logging
import time
from contextlib import redirect_stdout
from typing import Any

import pytest

from coupa_api.ratelimit import RateController
from tap_coupa.tap import TapCoupa
from tests.tap.conftest import discover, parse_messages, select


def sync(config: dict[str, Any], catalog: dict[str, Any]) -> tuple[TapCoupa, list[int]]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap = TapCoupa(config=config, catalog=catalog, parse_env_config=False)
        tap.sync_all()
    out.flush()
    messages = parse_messages(out.buffer.getvalue().decode())
    ids = [m["record"]["id"] for m in messages if m["type"] == "RECORD"]
    return tap, ids


def test_storm_without_retry_after_backs_off_and_loses_nothing(coupa, config, caplog):
    coupa.control.reset(counts={"invoices": 600})
    config.update(max_concurrency=6, max_requests_per_second=25)
    catalog = select(discover(config), ["invoices"])
    coupa.control.configure(rate_limit=8, burst=3)  # Coupa tighter than the client thinks
    with caplog.at_level(logging.INFO):
        tap, ids = sync(config, catalog)
    assert sorted(ids) == coupa.control.record_ids("invoices")
    counters = tap.coupa.limiter.counters()
    served_429 = coupa.control.stats()["status_counts"].get("429", 0)
    assert served_429 > 0
    assert counters.throttled == served_429
    assert counters.retries >= served_429
    # Halving keeps the storm short: most requests go through.
    assert served_429 < counters.requests / 2, counters
    stream = tap.stats["invoices"].snapshot()
    assert stream.throttled == served_429
    assert stream.records == 600
    summary = [r.getMessage() for r in caplog.records if "whole run" in r.getMessage()]
    assert summary
    assert f"{served_429} answered 429" in summary[-1]


def test_retry_after_pauses_every_worker(coupa, config):
    coupa.control.reset(counts={"invoices": 400})
    config.update(max_concurrency=6, max_requests_per_second=25)
    catalog = select(discover(config), ["invoices"])
    coupa.control.configure(rate_limit=6, burst=2, retry_after=1)
    before = len(coupa.control.requests_log())
    tap, ids = sync(config, catalog)
    assert sorted(ids) == coupa.control.record_ids("invoices")
    log = [r for r in coupa.control.requests_log()[before:] if r["path"].startswith("/api/")]
    throttled = [r["time"] for r in log if r["status"] == 429]
    assert throttled
    assert tap.coupa.limiter.counters().paused_seconds > 0
    for t in throttled:
        # Requests already on the wire may land just after; then nobody sends until it passed.
        during = [r for r in log if t + 0.4 < r["time"] < t + 0.9]
        assert not during, f"{len(during)} requests sent during a Retry-After pause"


def test_controller_halves_and_recovers():
    controller = RateController(20, burst=5)
    controller.observe(429)
    assert controller.rate == pytest.approx(10, abs=0.5)
    controller.observe(429)  # answers to requests sent together: one signal, one halving
    assert controller.rate == pytest.approx(10, abs=0.5)
    time.sleep(0.6)
    controller.observe(429)
    assert controller.rate is not None
    halved = controller.rate
    assert halved < 10
    time.sleep(0.3)
    controller.acquire()
    assert halved < controller.rate < 20
    assert controller.counters().throttled == 3


def test_retry_after_holds_other_callers():
    controller = RateController(None)
    controller.observe(429, retry_after=0.4)
    start = time.monotonic()
    controller.acquire()
    assert time.monotonic() - start >= 0.35
