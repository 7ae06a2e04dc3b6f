"""The deletion sweep never reports a live record and never misses one the warehouse received.

Issue 14, over real HTTP against the emulator: a sweep page that is not an array of ids fails
the run (no marker); a stream-map filter is decided on the record as emitted; a run killed
mid-backfill keeps the ids it emitted; an id set in STATE is decoded within bounds.
"""

from __future__ import annotations

import json
import logging
import os
import select as io_select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tap_coupa import idset
from tap_coupa.deletions import DELETED_AT, MAX_TRACKED_IDS, STATE_KEY
from tests.tap.conftest import discover, run_cli, run_tap, select

STREAM = "expense_reports"
#: The sweep's id listing, and not the main read's pages (same path): docs/emulator-control.md.
SWEEP_QUERY = ['fields=["id"]', "dir=asc"]
BAD_PAGES: dict[str, dict[str, Any]] = {
    "json-object": {"kind": "status", "status": 200, "body": "json"},
    "empty": {"kind": "status", "status": 200, "body": "empty"},
    "html": {"kind": "status", "status": 200, "body": "html"},
    "xml": {"kind": "status", "status": 200, "body": "xml"},
    "truncated": {"kind": "truncate"},
}
#: Generous: each run below takes seconds; a stalled tap fails the test instead of hanging it.
TIMEOUT = 120.0


def markers(messages: list[dict[str, Any]], stream: str = STREAM) -> list[int]:
    return [
        m["record"]["id"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == stream and m["record"].get(DELETED_AT)
    ]


def stored_ids(state: dict[str, Any], stream: str = STREAM) -> list[int]:
    return idset.decode(state["bookmarks"][stream][STATE_KEY]["ids"])


def parse(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def cli_sync(config, catalog, state, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    (tmp_path / "state.json").write_text(json.dumps(state))
    args = ["--catalog", str(tmp_path / "catalog.json"), "--state", str(tmp_path / "state.json")]
    return run_cli(args, config, tmp_path, timeout=TIMEOUT)


@pytest.mark.parametrize("bad", sorted(BAD_PAGES))
def test_a_sweep_page_that_is_not_an_array_is_retried_then_fails_the_run(
    coupa, config, tmp_path, bad
):
    coupa.control.reset(counts={STREAM: 200})
    config.update(detect_deletes=[STREAM], max_retries=3)
    catalog = select(discover(config), [STREAM])
    baseline = run_tap(config, catalog=catalog)
    ids = coupa.control.record_ids(STREAM)
    assert stored_ids(baseline.final_state) == ids
    gone = [ids[3], ids[120]]
    for rid in gone:
        coupa.control.delete_record(STREAM, rid)

    # The sweep's second page is bad on every attempt: the run fails and reports nothing.
    rule = {**BAD_PAGES[bad], "path": f"/api/{STREAM}", "query": SWEEP_QUERY}
    coupa.control.add_faults([{**rule, "after": 1, "times": config["max_retries"]}])
    failed = cli_sync(config, catalog, baseline.final_state, tmp_path)
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr
    assert "deletion sweep" in failed.stderr.lower(), failed.stderr[-2000:]
    messages = parse(failed.stdout)
    assert markers(messages) == [], "a sweep that did not list every page reported deletions"
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    assert all(stored_ids(s) == ids for s in states), "a partial listing replaced the id set"

    # Once: retried, the listing completes, and exactly the deleted ids are reported.
    coupa.control.add_faults([{**rule, "after": 2, "times": 1}])
    healed = run_tap(config, catalog=catalog, state=baseline.final_state)
    assert sorted(markers(healed.messages)) == sorted(gone)
    assert stored_ids(healed.final_state) == coupa.control.record_ids(STREAM)


def test_a_filter_on_a_custom_field_column_decides_on_the_record_as_emitted(coupa, config):
    stream = "invoices"  # the acme tenant's invoices carry a `cost-center` custom field
    coupa.control.reset(counts={stream: 80})
    column = "custom-fields__cost-center"
    config["stream_maps"] = {stream: {"__filter__": f"record['{column}'] is not None"}}
    catalog = select(discover(config), [stream])
    truth = coupa.control.records(stream)
    kept = [r["id"] for r in truth if r["custom-fields"].get("cost-center") is not None]
    dropped = [r["id"] for r in truth if r["custom-fields"].get("cost-center") is None]
    assert kept
    assert dropped
    without = run_tap(config, catalog=catalog)
    assert sorted(without.ids(stream)) == kept  # the filter works without detect_deletes

    config["detect_deletes"] = [stream]
    first = run_tap(config, catalog=catalog)
    assert sorted(first.ids(stream)) == kept
    assert stored_ids(first.final_state, stream) == kept, "the baseline is what was emitted"
    for rid in (kept[0], kept[-1], dropped[0], dropped[-1]):
        coupa.control.delete_record(stream, rid)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert sorted(markers(second.messages, stream)) == [kept[0], kept[-1]], "a phantom marker"


def stop_after_backfill_state(
    proc: subprocess.Popen[bytes], signum: int, stream: str = STREAM
) -> list[dict[str, Any]]:
    """Read stdout until a STATE carries open backfill ranges, send `signum`, read the rest.

    stdout is drained to the end after the signal: a tap blocked on a full pipe could not stop.
    """
    assert proc.stdout is not None
    messages: list[dict[str, Any]] = []
    buffer = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = io_select.select([proc.stdout], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 1 << 16)
        assert chunk, "the tap ended before a backfill STATE appeared"
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            messages.append(message)
            bookmark = (
                message["value"].get("bookmarks", {}).get(stream, {})
                if message["type"] == "STATE"
                else {}
            )
            if (bookmark.get("backfill") or {}).get("ranges") and len(messages) > 500:
                proc.send_signal(signum)
                rest, _ = proc.communicate(timeout=TIMEOUT)
                *tail, _partial = (buffer + rest).split(b"\n")  # kill -9 may cut the last line
                messages.extend(json.loads(t) for t in tail)
                return messages
    pytest.fail("no STATE with open backfill ranges within the time bound")


@dataclass(frozen=True)
class Stopped:
    """What a tap-coupa run stopped mid-backfill left: its exit code, last STATE and ids."""

    returncode: int
    last_state: dict[str, Any]
    #: Ids of `stream` emitted before that last STATE, and those of them the baseline lacked.
    emitted: list[int]
    new: list[int]


def stop_mid_backfill(
    coupa: Any,
    config: dict[str, Any],
    catalog: dict[str, Any],
    baseline: Any,
    tmp_path: Path,
    signum: int,
    *,
    stream: str = STREAM,
    resource: str = STREAM,
) -> Stopped:
    """Insert 3,000 records, run tap-coupa from `baseline`'s STATE and stop it mid-backfill.

    The new records are ones the baseline's id set does not hold: only this run's STATE can
    keep them.
    """
    coupa.control.add_mutation(after_requests=0, resource=resource, insert=3000)
    coupa.control.configure(latency_ms=20)  # the read takes long enough to be stopped
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    (tmp_path / "state.json").write_text(json.dumps(baseline.final_state))
    exe = str(Path(sys.executable).parent / "tap-coupa")
    args = ["--config", "config.json", "--catalog", "catalog.json", "--state", "state.json"]
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [exe, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        killed = stop_after_backfill_state(proc, signum, stream)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    coupa.control.configure(latency_ms=0)
    last = next(m["value"] for m in reversed(killed) if m["type"] == "STATE")
    index = max(i for i, m in enumerate(killed) if m["type"] == "STATE")
    emitted = [
        m["record"]["id"] for m in killed[:index] if m["type"] == "RECORD" and m["stream"] == stream
    ]
    new = sorted(set(emitted) - set(stored_ids(baseline.final_state, stream)))
    assert len(new) > 300, "the killed run emitted too little to prove anything"
    assert proc.returncode is not None
    return Stopped(proc.returncode, last, emitted, new)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_run_killed_mid_backfill_keeps_every_id_it_emitted(coupa, config, tmp_path, signum):
    coupa.control.reset(counts={STREAM: 60})
    config.update(detect_deletes=[STREAM], max_concurrency=2)
    catalog = select(discover(config), [STREAM])
    baseline = run_tap(config, catalog=catalog)
    stopped = stop_mid_backfill(coupa, config, catalog, baseline, tmp_path, signum)
    assert stopped.returncode != 0
    new = stopped.new

    resumed = run_tap(config, catalog=catalog, state=stopped.last_state)
    assert not set(new) & set(resumed.ids(STREAM)), "the resumed run read them again"
    held = set(stored_ids(resumed.final_state))
    assert set(new) <= held, f"{len(set(new) - held)} emitted ids dropped out of the stored set"
    assert held == set(coupa.control.record_ids(STREAM))

    gone = new[:: len(new) // 5][:5]
    for rid in gone:
        coupa.control.delete_record(STREAM, rid)
    after = run_tap(config, catalog=catalog, state=resumed.final_state)
    assert sorted(markers(after.messages)) == gone


#: A run from 0 of 10^9 ids: five bytes of varints that claim a billion ids.
BILLION = idset.PREFIX + "eNpjaJjy+g4zAAlSAt8="


def test_an_id_set_that_claims_too_many_ids_or_is_corrupt_is_refused(coupa, config, caplog):
    assert idset.decode(idset.encode(range(10))) == list(range(10))
    with pytest.raises(ValueError, match="more than"):
        idset.decode(BILLION, limit=MAX_TRACKED_IDS)
    coupa.control.reset(counts={STREAM: 30})
    config["detect_deletes"] = [STREAM]
    catalog = select(discover(config), [STREAM])
    first = run_tap(config, catalog=catalog)
    entry = first.final_state["bookmarks"][STREAM][STATE_KEY]
    for bad in (BILLION, "r1:eNpjZGVmYmSUZtnDzrxq0nsrRgAQ9wN", "r1:!!", "xyz"):
        state = json.loads(json.dumps(first.final_state))
        state["bookmarks"][STREAM][STATE_KEY] = {**entry, "ids": bad, "count": 10**9}
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            run = run_tap(config, catalog=catalog, state=state)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("fresh baseline" in w for w in warnings), (bad, warnings)
        assert markers(run.messages) == []
        assert stored_ids(run.final_state) == coupa.control.record_ids(STREAM)


#: Packed by the release before this change (tap_coupa.idset at f16d715): must keep decoding.
OLD_RELEASE_IDS = "r1:eNpjZGVmYmSUZtnDzrxq0nsrRgAQ9wNZ"
OLD_RELEASE_RANGE = "r1:eNpLSQEAAS4AyQ=="


def test_state_written_by_the_current_release_keeps_decoding(coupa, config):
    old = [1, 2, 3, 4, 5, 9, 10, 12, 40, 41, 42, 43, 1000, 1001, 1002, 123456789]
    assert idset.decode(OLD_RELEASE_IDS) == old
    assert idset.decode(OLD_RELEASE_RANGE) == list(range(100, 200))
    coupa.control.reset(counts={STREAM: 30})
    config["detect_deletes"] = [STREAM]
    catalog = select(discover(config), [STREAM])
    first = run_tap(config, catalog=catalog)
    ids = coupa.control.record_ids(STREAM)
    # The entry exactly as the previous release wrote it (no key this release adds).
    entry = first.final_state["bookmarks"][STREAM][STATE_KEY]
    state = json.loads(json.dumps(first.final_state))
    state["bookmarks"][STREAM][STATE_KEY] = {
        "version": entry["version"],
        "query": entry["query"],
        "count": len(ids),
        "ids": idset.encode(ids),
    }
    coupa.control.delete_record(STREAM, ids[7])
    second = run_tap(config, catalog=catalog, state=state)
    assert markers(second.messages) == [ids[7]]


#: A full-table `extra_streams` entry (no replication key): custom objects of definition 9.
AUDITS = {"name": "audits", "path": "/api/custom_objects/9/object_instances",
          "scope": "core.common.read"}  # fmt: skip


def audit_ids(coupa: Any) -> list[int]:
    rows = coupa.control.records("custom_object_instances")
    return sorted(r["id"] for r in rows if r["object-definition-id"] == 9)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_full_table_extra_stream_killed_mid_read_keeps_every_id_it_emitted(
    coupa, tmp_path, signum
):
    """detect_deletes on a full-table extra stream: resumable, and no emitted id is forgotten."""
    from tests.tap.conftest import tap_config  # noqa: PLC0415

    coupa.control.reset(counts={"custom_object_instances": 60})
    config = tap_config(coupa.base_url, extra_streams=[AUDITS], detect_deletes=["audits"],
                        max_concurrency=2)  # fmt: skip
    catalog = select(discover(config), ["audits"])
    baseline = run_tap(config, catalog=catalog)
    assert sorted(stored_ids(baseline.final_state, "audits")) == audit_ids(coupa)
    stopped = stop_mid_backfill(
        coupa, config, catalog, baseline, tmp_path, signum,
        stream="audits", resource="custom_object_instances",
    )  # fmt: skip
    assert stopped.returncode == (4 if signum == signal.SIGTERM else -signal.SIGKILL)
    truth = audit_ids(coupa)
    # STATE was emitted during the full-table read, with keyset cursors by id.
    last = stopped.last_state
    assert last["bookmarks"]["audits"]["backfill"]["ranges"]
    emitted, new = stopped.emitted, stopped.new

    resumed = run_tap(config, catalog=catalog, state=last)
    again = resumed.ids("audits")
    assert set(emitted) | set(again) == set(truth), "a record was never read"
    assert not set(new) & set(again), "the resumed run read them again"
    assert len(again) < len(truth) - 300, "the resumed run started over"
    held = set(stored_ids(resumed.final_state, "audits"))
    assert set(new) <= held, f"{len(set(new) - held)} emitted ids dropped out of the stored set"
    assert held == set(truth)
    assert markers(resumed.messages, "audits") == []

    gone = new[:: len(new) // 5][:5]
    for rid in gone:
        coupa.control.delete_record("custom_object_instances", rid)
    after = run_tap(config, catalog=catalog, state=resumed.final_state)
    assert sorted(markers(after.messages, "audits")) == gone
    # Completed runs leave no cursors: the next full-table read is whole again.
    assert sorted(r for r in after.ids("audits") if r not in gone) == audit_ids(coupa)
