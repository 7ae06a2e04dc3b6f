"""Bookmarks on `updated-at`: second runs, ties, daylight saving, lookback, interruptions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from coupa_api.errors import CoupaError
from tests.tap.conftest import discover, last_page_query, parse_messages, run_cli, run_tap, select


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def invoices_only(config):
    return select(discover(config), ["invoices"])


def test_bookmark_is_the_latest_instant_in_utc(coupa, config, invoices_only):
    run = run_tap(config, catalog=invoices_only)
    truth = coupa.control.records("invoices")
    latest = max(instant(r["updated-at"]) for r in truth)
    bookmark = run.bookmark("invoices")
    assert bookmark is not None
    assert bookmark.endswith("+00:00")
    assert instant(bookmark) == latest
    # Every emitted updated-at is UTC and the same instant Coupa sent.
    by_id = {r["id"]: r for r in truth}
    for record in run.records("invoices"):
        assert record["updated-at"].endswith("+00:00")
        assert instant(record["updated-at"]) == instant(by_id[record["id"]]["updated-at"])


def test_daylight_saving_does_not_fool_the_bookmark(coupa, config, invoices_only):
    """Around the November fall-back, string order and time order disagree in Coupa's offsets."""
    truth = coupa.control.records("invoices")
    stamps = [r["updated-at"] for r in truth]
    assert any(s.endswith("-07:00") for s in stamps)
    assert any(s.endswith("-08:00") for s in stamps)
    lexical_max = max(stamps)
    true_max = max(stamps, key=instant)
    run = run_tap(config, catalog=invoices_only)
    assert instant(run.bookmark("invoices")) == instant(true_max)
    if instant(lexical_max) != instant(true_max):
        assert instant(run.bookmark("invoices")) != instant(lexical_max)


def test_second_run_reads_only_what_changed(coupa, config, invoices_only):
    first = run_tap(config, catalog=invoices_only)
    bookmark = first.bookmark("invoices")
    truth = coupa.control.records("invoices")
    ties = [r["id"] for r in truth if instant(r["updated-at"]) == instant(bookmark)]

    second = run_tap(config, catalog=invoices_only, state=first.final_state)
    # Only the records sharing the bookmark instant come again (the >= boundary), no others.
    assert sorted(second.ids("invoices")) == sorted(ties)

    query = last_page_query(coupa)
    assert instant(query["updated-at[gt_or_eq]"][0]) == instant(bookmark)


def test_changes_between_runs_are_picked_up(coupa, config, invoices_only):
    first = run_tap(config, catalog=invoices_only)
    before = {r["id"] for r in coupa.control.records("invoices")}
    coupa.control.add_mutation(after_requests=0, resource="invoices", update=7, insert=3)
    # The mutation fires on the next /api/ request; make one.
    run_tap(config, catalog=select(discover(config), ["currencies"]))
    truth = coupa.control.records("invoices")
    inserted = {r["id"] for r in truth} - before
    assert len(inserted) == 3
    changed = {
        r["id"] for r in truth if instant(r["updated-at"]) > instant(first.bookmark("invoices"))
    }
    assert len(changed) == 10

    second = run_tap(config, catalog=invoices_only, state=first.final_state)
    got = set(second.ids("invoices"))
    assert changed <= got
    boundary = {
        r["id"] for r in truth if instant(r["updated-at"]) == instant(first.bookmark("invoices"))
    }
    assert got <= changed | boundary


def test_ties_on_updated_at_are_all_read(coupa, config, invoices_only):
    truth = coupa.control.records("invoices")
    seconds: dict[str, int] = {}
    for r in truth:
        seconds[r["updated-at"]] = seconds.get(r["updated-at"], 0) + 1
    assert max(seconds.values()) >= 5, "dataset should have many records in one second"
    # Start exactly at a crowded second: all records of that second must arrive.
    crowded = max(seconds, key=lambda k: seconds[k])
    config["start_date"] = instant(crowded).astimezone(dt.UTC).isoformat()
    run = run_tap(config, catalog=invoices_only)
    expected = {r["id"] for r in truth if instant(r["updated-at"]) >= instant(crowded)}
    assert set(run.ids("invoices")) == expected


def test_lookback_window_reaches_back(coupa, config, invoices_only):
    first = run_tap(config, catalog=invoices_only)
    config["lookback_window"] = 3600
    run_tap(config, catalog=invoices_only, state=first.final_state)
    query = last_page_query(coupa)
    since = instant(query["updated-at[gt_or_eq]"][0])
    assert since == instant(first.bookmark("invoices")) - dt.timedelta(hours=1)


def test_lookback_does_not_widen_the_first_run(coupa, config, invoices_only):
    config.update(lookback_window=3600, start_date="2024-10-01T00:00:00+00:00")
    run_tap(config, catalog=invoices_only)
    query = last_page_query(coupa)
    assert instant(query["updated-at[gt_or_eq]"][0]) == instant("2024-10-01T00:00:00+00:00")


def failing_second_run(coupa, config, catalog):
    """A first full run, then 120 changed records (3 pages) whose second page fails for good."""
    coupa.control.reset(counts={"invoices": 160})
    first = run_tap(config, catalog=catalog)
    coupa.control.add_mutation(after_requests=0, resource="invoices", update=120)
    coupa.control.add_faults(
        [
            {
                "kind": "status",
                "path": "/api/invoices",
                "after": 1,
                "times": 50,
                "status": 500,
                "body": "html",
            }
        ]
    )
    config["max_retries"] = 2
    return first


def test_interrupted_run_raises_and_finalises_no_bookmark(coupa, config, invoices_only):
    first = failing_second_run(coupa, config, invoices_only)
    with pytest.raises(CoupaError):
        run_tap(config, catalog=invoices_only, state=first.final_state)


def test_interrupted_cli_run_emits_no_advanced_bookmark(coupa, config, invoices_only, tmp_path):
    first = failing_second_run(coupa, config, invoices_only)
    (tmp_path / "catalog.json").write_text(json.dumps(invoices_only))
    (tmp_path / "state.json").write_text(json.dumps(first.final_state))
    result = run_cli(
        ["--catalog", str(tmp_path / "catalog.json"), "--state", str(tmp_path / "state.json")],
        config,
        tmp_path,
    )
    assert result.returncode != 0
    for message in parse_messages(result.stdout):
        if message["type"] == "STATE":
            value = message["value"]["bookmarks"]["invoices"].get("replication_key_value")
            assert value == first.bookmark("invoices")
    assert "Traceback" not in result.stderr
    assert "500" in result.stderr
