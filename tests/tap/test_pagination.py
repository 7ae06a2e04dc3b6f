"""Keyset pages of 50: every record exactly once at the page boundaries, no wasted request."""

from __future__ import annotations

import math
from urllib.parse import parse_qs

import pytest

from tests.tap.conftest import discover, run_tap, select


@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 101])
def test_page_boundaries(coupa, config, count):
    coupa.control.reset(counts={"invoices": count})
    catalog = select(discover(config), ["invoices"])
    before = len(coupa.control.requests_log())

    run = run_tap(config, catalog=catalog)

    truth = [r["id"] for r in coupa.control.records("invoices")]
    assert len(truth) == count
    assert sorted(run.ids("invoices")) == sorted(truth)
    assert len(set(run.ids("invoices"))) == count  # exactly once

    gets = [
        r
        for r in coupa.control.requests_log()[before:]
        if r["path"] == "/api/invoices" and r["method"] == "GET"
    ]
    # The run's check that the collection exists (tap_coupa.tenant): one request of one id.
    checks = [r for r in gets if r["query"].startswith("limit=1&")]
    assert len(checks) == 1
    gets = [r for r in gets if r not in checks]
    # One probe for the highest id (to split the rest into ranges). It goes out with the run's
    # first page (Reader.fetch_head), so it is sent whether or not that page is full.
    probes = [r for r in gets if parse_qs(r["query"]).get("dir") == ["desc"]]
    assert len(probes) == 1
    gets = [r for r in gets if r not in probes]
    # A short page ends the stream; only an exact multiple of 50 needs one empty page.
    expected = math.floor(count / 50) + 1
    assert len(gets) == expected
    for request in gets:
        query = parse_qs(request["query"])
        assert query["order_by"] == ["id"]
        assert query["limit"] == ["50"]
        assert "offset" not in query


def test_keyset_cursor_advances_by_last_id(coupa, config):
    config["max_concurrency"] = 1  # one range: the cursor sequence is the whole story
    coupa.control.reset(counts={"invoices": 120})
    catalog = select(discover(config), ["invoices"])
    before = len(coupa.control.requests_log())
    run_tap(config, catalog=catalog)
    gets = [
        r
        for r in coupa.control.requests_log()[before:]
        if r["path"] == "/api/invoices" and "id[gt]" in parse_qs(r["query"])
    ]
    cursors = [int(parse_qs(r["query"])["id[gt]"][0]) for r in gets]
    ids = sorted(r["id"] for r in coupa.control.records("invoices"))
    assert cursors == [0, ids[49], ids[99]]
