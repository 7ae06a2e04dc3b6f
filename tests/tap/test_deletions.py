"""Records deleted in Coupa reach the warehouse: the `detect_deletes` id sweep, over real HTTP."""

from __future__ import annotations

import logging
import math
import random

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError

from tap_coupa import idset
from tap_coupa.deletions import DELETED_AT, STATE_KEY
from tap_coupa.tap import TapCoupa
from tests.conftest import fetch_token
from tests.tap.conftest import discover, run_tap, select

STREAM = "expense_reports"


def markers(run):
    return [r for r in run.records(STREAM) if r.get(DELETED_AT)]


def sweep_requests(coupa, before):
    return [
        r
        for r in coupa.control.requests_log()[before:]
        if r["path"] == f"/api/{STREAM}"
        and "fields=%5B%22id%22%5D" in r["query"]  # fields=["id"]
        and "dir=asc" in r["query"]
    ]


def api_request(coupa):
    """Any /api request: lets a scheduled emulator mutation fire between two tap runs."""
    token = fetch_token(coupa.base_url)
    response = requests.get(
        f"{coupa.base_url}/api/uoms",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )
    response.raise_for_status()


def api_delete(coupa, token, rid):
    return requests.delete(
        f"{coupa.base_url}/api/{STREAM}/{rid}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )


def test_id_sets_round_trip_and_stay_small():
    rng = random.Random(3)
    ids: list[int] = []
    cur = 0
    for _ in range(100_000):
        cur += rng.choice((1, 1, 1, 1, 2, 3, 5, 11))
        ids.append(cur)
    packed = idset.encode(reversed(ids))
    assert idset.decode(packed) == ids
    assert len(packed) < 100_000  # under 1 byte per id even with the emulator's gaps
    assert len(idset.encode(range(1, 1_000_001))) < 40  # one run
    assert idset.decode(idset.encode([])) == []
    with pytest.raises(ValueError, match="id set"):
        idset.decode("r1:not-base64!")


def test_deleted_records_arrive_with_sdc_deleted_at(coupa, config, caplog, oauth_client):
    coupa.control.reset(counts={STREAM: 130})
    config["detect_deletes"] = [STREAM]
    catalog = select(discover(config), [STREAM])
    schema = catalog["streams"]
    assert any(e["tap_stream_id"] == STREAM for e in schema)

    before = len(coupa.control.requests_log())
    first = run_tap(config, catalog=catalog)
    assert not markers(first), "the first sweep only stores its baseline"
    ids = coupa.control.record_ids(STREAM)
    assert len(sweep_requests(coupa, before)) == math.floor(len(ids) / 50) + 1
    state = first.final_state["bookmarks"][STREAM][STATE_KEY]
    assert idset.decode(state["ids"]) == ids
    schemas = [m for m in first.messages if m["type"] == "SCHEMA" and m["stream"] == STREAM]
    assert DELETED_AT in schemas[0]["schema"]["properties"]

    gone = [ids[0], ids[57], ids[-1]]
    coupa.control.delete_record(STREAM, gone[0])
    # Coupa's own DELETE (reference §4: expense reports can be deleted), scope checked.
    reader = fetch_token(coupa.base_url, *oauth_client(["core.expense.read"]))
    assert api_delete(coupa, reader, gone[1]).status_code == 403
    writer = fetch_token(coupa.base_url, *oauth_client(["core.expense.write"]))
    for rid in gone[1:]:
        response = api_delete(coupa, writer, rid)
        assert response.status_code == 200
        assert response.json()["id"] == rid
    assert api_delete(coupa, writer, gone[1]).status_code == 404
    caplog.clear()
    with caplog.at_level(logging.INFO):
        second = run_tap(config, catalog=catalog, state=first.final_state)
    got = markers(second)
    assert sorted(r["id"] for r in got) == sorted(gone)
    assert all(set(r) == {"id", DELETED_AT} for r in got)
    # Markers come before the STATE that stops tracking their ids.
    last_marker = max(i for i, m in enumerate(second.messages) if m.get("record") in got)
    last_state = max(i for i, m in enumerate(second.messages) if m["type"] == "STATE")
    assert last_marker < last_state
    remaining = idset.decode(second.final_state["bookmarks"][STREAM][STATE_KEY]["ids"])
    assert remaining == coupa.control.record_ids(STREAM)
    requests_per_sweep = math.floor(127 / 50) + 1
    assert any(
        f"Deletion sweep of '{STREAM}': {requests_per_sweep} requests (1 per 50 ids)" in m
        for m in caplog.messages
    ), caplog.messages

    third = run_tap(config, catalog=catalog, state=second.final_state)
    assert not markers(third), "a deletion is reported once"


def test_only_ids_the_warehouse_received_are_reported(coupa, config):
    coupa.control.reset(counts={STREAM: 20})
    config["detect_deletes"] = {STREAM: True}
    catalog = select(discover(config), [STREAM])
    first = run_tap(config, catalog=catalog)
    # A record created after the baseline, emitted by the next run, then deleted.
    coupa.control.add_mutation(0, STREAM, insert=1)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    created = max(coupa.control.record_ids(STREAM))
    assert created in second.ids(STREAM)
    coupa.control.delete_record(STREAM, created)
    # A record created and deleted between two runs never reached the warehouse.
    coupa.control.add_mutation(0, STREAM, insert=1)
    api_request(coupa)
    fleeting = max(coupa.control.record_ids(STREAM))
    assert fleeting != created
    coupa.control.delete_record(STREAM, fleeting)
    third = run_tap(config, catalog=catalog, state=second.final_state)
    assert [r["id"] for r in markers(third)] == [created]


def test_deletion_sweep_settings_are_checked():
    config = {
        "base_url": "http://127.0.0.1:9",
        "client_id": "x",
        "client_secret": "y",
        "detect_deletes": ["invoice_lines", "no_such_stream"],
    }
    with pytest.raises(ConfigValidationError) as caught:
        TapCoupa(config=config, parse_env_config=False, setup_mapper=False).check_config()
    errors = " ".join(caught.value.errors)
    assert "inside its document's payload" in errors
    assert "'no_such_stream'" in errors


def test_records_a_stream_map_filtered_out_are_never_reported(coupa, config):
    coupa.control.reset(counts={STREAM: 60})
    truth = coupa.control.records(STREAM)
    dropped = truth[0]["status"]
    config["detect_deletes"] = [STREAM]
    config["stream_maps"] = {STREAM: {"__filter__": f"status != '{dropped}'"}}
    catalog = select(discover(config), [STREAM])
    first = run_tap(config, catalog=catalog)
    filtered = next(r["id"] for r in truth if r["status"] == dropped)
    kept = next(r["id"] for r in truth if r["status"] != dropped)
    assert filtered not in first.ids(STREAM)
    for rid in (filtered, kept):
        coupa.control.delete_record(STREAM, rid)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert [r["id"] for r in markers(second)] == [kept]


def test_no_sweep_for_a_stream_read_only_for_its_lines(coupa, config):
    coupa.control.reset(counts={STREAM: 20})
    config["detect_deletes"] = [STREAM]
    catalog = select(discover(config), ["expense_lines"])
    before = len(coupa.control.requests_log())
    run = run_tap(config, catalog=catalog)
    assert run.records("expense_lines")
    assert not run.records(STREAM)
    assert not sweep_requests(coupa, before)
    assert STATE_KEY not in run.final_state["bookmarks"].get(STREAM, {})
