"""The clock rule: Coupa's clock caps the bookmark, never the tap host's (issue 8, item 5)."""

from __future__ import annotations

import datetime as dt
import email.utils

import requests

from tests.tap.conftest import discover, run_tap, select

SKEW = 300  # the tap host's clock is this many seconds ahead of Coupa's


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_emulator_clock_offset_shows_in_date_header(coupa):
    coupa.control.configure(clock_offset_seconds=-SKEW)
    response = requests.get(f"{coupa.base_url}/api/invoices", timeout=10)
    served = email.utils.parsedate_to_datetime(response.headers["Date"])
    behind = dt.datetime.now(dt.UTC) - served
    assert SKEW - 5 < behind.total_seconds() < SKEW + 5


def test_host_clock_ahead_loses_no_update(coupa, config):
    """Updates made during a run, in ranges already read, are read by the next run."""
    coupa.control.reset(counts={"invoices": 600})
    coupa.control.configure(clock_offset_seconds=-SKEW, latency_ms=250)
    config["max_concurrency"] = 1
    catalog = select(discover(config), ["invoices"])
    # Two rounds of edits more than a second apart: the second one's records (some not read
    # yet) carry a later updated-at than the first one's (some already read).
    coupa.control.add_mutation(after_requests=4, resource="invoices", update=60)
    coupa.control.add_mutation(after_requests=9, resource="invoices", update=60)
    first = run_tap(config, catalog=catalog)
    assert coupa.control.stats()["pending_mutations"] == 0
    bookmark = instant(first.bookmark("invoices"))
    coupa_now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SKEW)
    assert bookmark < coupa_now, "the bookmark passed Coupa's own clock"

    coupa.control.configure(latency_ms=0)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    latest = {r["id"]: instant(r["updated-at"]) for r in first.records("invoices")}
    latest.update({r["id"]: instant(r["updated-at"]) for r in second.records("invoices")})
    truth = {r["id"]: instant(r["updated-at"]) for r in coupa.control.records("invoices")}
    lost = [i for i, stamp in truth.items() if latest.get(i) != stamp]
    assert not lost, f"{len(lost)} updates were never emitted"
