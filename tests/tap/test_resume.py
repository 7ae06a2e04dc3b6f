"""Resumable backfills: kill -9 mid-run, resume from the last STATE; old state files still work."""

from __future__ import annotations

import copy
import json
import os
import select as io_select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from meltano.core.utils import merge

from tests.tap.conftest import discover, run_tap, select

TIMEOUT = 60.0


def tap_until_killed(
    config: dict[str, Any],
    catalog: dict[str, Any],
    tmp_path: Path,
    *,
    kill_after: int,
    stream: str = "invoices",
) -> list[dict[str, Any]]:
    """Run the CLI, read its stdout as it comes, kill -9 after `kill_after` `stream` records."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    exe = str(Path(sys.executable).parent / "tap-coupa")
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [
            exe,
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    messages: list[dict[str, Any]] = []
    buffer = b""
    records = 0
    deadline = time.monotonic() + TIMEOUT
    try:
        while records < kill_after and time.monotonic() < deadline:
            ready, _, _ = io_select.select([proc.stdout], [], [], 1.0)
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                messages.append(message)
                records += message["type"] == "RECORD" and message["stream"] == stream
        assert records >= kill_after, "the tap finished or stalled before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    return messages  # a partial last line is what kill -9 leaves: not a message


def test_kill_9_mid_backfill_resumes_each_range(coupa, config, tmp_path):
    coupa.control.reset(counts={"invoices": 4000})
    coupa.control.configure(latency_ms=30)
    config.update(max_concurrency=4, max_requests_per_second=40)
    catalog = select(discover(config), ["invoices", "invoice_lines"])
    killed = tap_until_killed(config, catalog, tmp_path, kill_after=2200)

    first = [
        m["record"]["id"] for m in killed if m["type"] == "RECORD" and m["stream"] == "invoices"
    ]
    states = [m["value"] for m in killed if m["type"] == "STATE"]
    entries = [s["bookmarks"]["invoices"].get("backfill") for s in states]
    assert any(entries), "no STATE with open ranges was emitted while the backfill ran"
    last = states[-1]
    entry = last["bookmarks"]["invoices"]["backfill"]
    assert entry["ranges"]
    assert len(entry["ranges"]) <= 2 * config["max_concurrency"] + 2
    # The bookmark itself does not move before the stream completes.
    assert "replication_key_value" not in last["bookmarks"]["invoices"]

    # Invoices edited between the kill and the resume, in ranges read and not yet read.
    coupa.control.add_mutation(after_requests=0, resource="invoices", update=60)
    resumed = run_tap(config, catalog=catalog, state=last)
    second = resumed.ids("invoices")
    truth = coupa.control.record_ids("invoices")
    assert set(first) | set(second) == set(truth), "a record was lost"
    assert len(second) == len(set(second))
    again = len(set(first) & set(second))
    assert again <= max(1000, len(first) // 10), f"{again} records read again"
    assert len(second) < len(truth) - 1000, "the resumed run started over"
    # Lines of every invoice arrive too (those read again come again).
    lines = {r["id"] for r in resumed.records("invoice_lines")}
    lines |= {
        m["record"]["id"]
        for m in killed
        if m["type"] == "RECORD" and m["stream"] == "invoice_lines"
    }
    expected = {
        line["id"] for rec in coupa.control.records("invoices") for line in rec["invoice-lines"]
    }
    assert lines == expected
    # Completed: the bookmark moved, and no cursors are left to resume.
    final = resumed.final_state["bookmarks"]["invoices"]
    assert final["replication_key_value"]
    assert not (final.get("backfill") or {}).get("ranges")
    # The cap is the first run's start (carried in `backfill`), not the resumed run's: the edits
    # in ranges the first run had finished are read by the next run.
    assert final["replication_key_value"] <= entry["signpost"]
    third = run_tap(config, catalog=catalog, state=resumed.final_state)
    seen = {r["id"]: r["updated-at"] for r in resumed.records("invoices")}
    seen.update({r["id"]: r["updated-at"] for r in third.records("invoices")})
    for record in coupa.control.records("invoices"):
        if record["updated-at"] > "2025":  # the edited ones (the dataset predates 2025)
            assert record["id"] in seen


def test_state_goes_out_while_the_backfill_runs(coupa, config, invoices_catalog):
    coupa.control.reset(counts={"invoices": 3000})
    config["max_concurrency"] = 4
    run = run_tap(config, catalog=invoices_catalog)
    positions = [i for i, m in enumerate(run.messages) if m["type"] == "STATE"]
    records_between = []
    count = 0
    for m in run.messages:
        if m["type"] == "RECORD":
            count += 1
        elif m["type"] == "STATE":
            records_between.append(count)
            count = 0
    assert len(positions) >= 3
    assert max(records_between) <= 1000
    assert not any(
        "progress_markers" in s["bookmarks"].get("invoices", {}) for s in run.states[-1:]
    )


def test_meltano_merge_cannot_resurrect_cursors(coupa, config, invoices_catalog):
    """Meltano's `merge` strategy merges partial states key by key (meltano.core.utils.merge):
    a finished stream must overwrite its cursors, not just drop them."""
    coupa.control.reset(counts={"invoices": 3000})
    config["max_concurrency"] = 4
    run = run_tap(config, catalog=invoices_catalog)
    midway = [s for s in run.states if (s["bookmarks"].get("invoices") or {}).get("backfill")]
    assert midway, "no STATE with open ranges while the backfill ran"
    partial: dict = {}
    for state in run.states:  # what Meltano keeps, STATE after STATE
        partial = merge(copy.deepcopy(state), partial)
    assert midway[0]["bookmarks"]["invoices"]["backfill"]["ranges"]
    assert partial["bookmarks"]["invoices"]["backfill"]["ranges"] == []
    assert partial["bookmarks"]["invoices"]["replication_key_value"]
    again = run_tap(config, catalog=invoices_catalog, state=partial)
    ties = again.ids("invoices")
    assert len(ties) < 50, "the merged state restarted the backfill"
    # A later backfill (here a full refresh) merges its open ranges over the emptied entry, as
    # Meltano does with the stored state: this used to fail on a stored null.
    refresh = run_tap(config, catalog=invoices_catalog)
    assert any((s["bookmarks"].get("invoices") or {}).get("backfill") for s in refresh.states)
    for state in refresh.states:
        partial = merge(copy.deepcopy(state), partial)
    assert partial["bookmarks"]["invoices"]["backfill"]["ranges"] == []


def test_state_from_before_partitions_still_works(coupa, config, invoices_catalog):
    """A STATE written by tap-coupa 0.1 (no `backfill`, SDK progress markers) is honoured."""
    truth = coupa.control.records("invoices")
    latest = max(truth, key=lambda r: r["updated-at"])
    first = run_tap(config, catalog=invoices_catalog)
    bookmark = first.bookmark("invoices")
    old_complete = {
        "bookmarks": {
            "invoices": {"replication_key": "updated-at", "replication_key_value": bookmark},
            "invoice_lines": {"replication_key": "updated-at", "replication_key_value": bookmark},
        }
    }
    run = run_tap(config, catalog=invoices_catalog, state=old_complete)
    assert 0 < len(run.ids("invoices")) < len(truth)
    assert latest["id"] in run.ids("invoices")

    old_interrupted = {
        "bookmarks": {
            "invoices": {
                "replication_key": "updated-at",
                "replication_key_value": bookmark,
                "progress_markers": {
                    "Note": "Progress is not resumable if interrupted.",
                    "replication_key": "updated-at",
                    "replication_key_value": "2030-01-01T00:00:00+00:00",
                },
                "replication_key_signpost": "2024-01-01T00:00:00+00:00",
                "starting_replication_value": bookmark,
            }
        }
    }
    again = run_tap(config, catalog=invoices_catalog, state=old_interrupted)
    assert sorted(again.ids("invoices")) == sorted(run.ids("invoices"))
    final = again.final_state["bookmarks"]["invoices"]
    assert final["replication_key_value"] == bookmark
    assert "progress_markers" not in final


def test_changed_filters_start_the_backfill_over(coupa, config, invoices_catalog):
    coupa.control.reset(counts={"invoices": 300})
    stale_state = {
        "bookmarks": {
            "invoices": {
                "backfill": {
                    "version": 1,
                    "query": "0000000000000000",
                    "ranges": [[10**9, None]],
                    "top": 10**9,
                    "signpost": None,
                    "emitted": 5,
                }
            }
        }
    }
    run = run_tap(config, catalog=invoices_catalog, state=stale_state)
    assert sorted(run.ids("invoices")) == coupa.control.record_ids("invoices")
