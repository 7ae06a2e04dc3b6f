"""Concurrent keyset partitions: the exact record set, page bounds, empty and skewed ranges."""

from __future__ import annotations

import datetime as dt
import threading
import time
from urllib.parse import parse_qs

import pytest

from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaError
from tap_coupa.partitions import KeyRange, PartitionedReader, RangeBoard
from tap_coupa.streams import STREAMS
from tests.tap.conftest import discover, run_tap, select


def invoice_gets(coupa, before):
    return [
        r
        for r in coupa.control.requests_log()[before:]
        if r["path"] == "/api/invoices" and r["method"] == "GET"
    ]


def test_reads_ranges_concurrently_and_exactly_once(coupa, config):
    coupa.control.reset(counts={"invoices": 1000})
    coupa.control.configure(latency_ms=40)
    config["max_concurrency"] = 6
    catalog = select(discover(config), ["invoices"])
    before = len(coupa.control.requests_log())
    run = run_tap(config, catalog=catalog)
    got = run.ids("invoices")
    truth = coupa.control.record_ids("invoices")
    assert len(got) == len(set(got)), "a record arrived twice"
    assert sorted(got) == truth
    assert coupa.control.stats()["max_in_flight"] >= 3
    queries = [parse_qs(r["query"]) for r in invoice_gets(coupa, before)]
    bounded = [q for q in queries if "id[lt_or_eq]" in q]
    assert bounded, "ranges carry an upper id bound"
    probes = [q for q in queries if q.get("dir") == ["desc"]]
    assert len(probes) == 1
    assert probes[0]["limit"] == ["1"]
    assert probes[0]["fields"] == ['["id"]']


def test_exact_set_under_inserts_and_updates(coupa, config):
    coupa.control.reset(counts={"invoices": 1200})
    coupa.control.configure(latency_ms=20)
    config["max_concurrency"] = 5
    catalog = select(discover(config), ["invoices"])
    before = set(coupa.control.record_ids("invoices"))
    coupa.control.add_mutation(after_requests=3, resource="invoices", update=80, insert=20)
    coupa.control.add_mutation(after_requests=7, resource="invoices", update=40, insert=15)
    run = run_tap(config, catalog=catalog)
    got = run.ids("invoices")
    after = set(coupa.control.record_ids("invoices"))
    assert len(after) == len(before) + 35
    assert len(got) == len(set(got)), "a record arrived twice"
    assert before <= set(got), "a record that existed at the start was skipped"
    # Inserts get higher ids: the open-ended last range reads them in the same run.
    assert set(got) == after

    # Every update made during the run is read by the next one (bookmark capped at the start).
    truth = {r["id"]: r["updated-at"] for r in coupa.control.records("invoices")}
    first = {r["id"]: r["updated-at"] for r in run.records("invoices")}
    second = run_tap(config, catalog=catalog, state=run.final_state)
    latest = {**first, **{r["id"]: r["updated-at"] for r in second.records("invoices")}}
    stale = [i for i, stamp in truth.items() if latest.get(i) is None or not same(stamp, latest[i])]
    assert not stale


def same(a: str, b: str) -> bool:
    def parse(v: str) -> dt.datetime:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))

    return parse(a) == parse(b)


@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 99, 100, 101, 250])
def test_partition_bounds(coupa, config, count):
    coupa.control.reset(counts={"invoices": count})
    config["max_concurrency"] = 8
    run = run_tap(config, catalog=select(discover(config), ["invoices"]))
    got = run.ids("invoices")
    assert len(got) == len(set(got))
    assert sorted(got) == coupa.control.record_ids("invoices")


def test_filtered_and_empty_ranges(coupa, config):
    """A server-side filter leaves most ranges empty; stealing still ends with the exact set."""
    coupa.control.reset(counts={"invoices": 900})
    truth = coupa.control.records("invoices")
    statuses = sorted(
        {r["status"] for r in truth}, key=lambda s: sum(r["status"] == s for r in truth)
    )
    rare = statuses[0]
    config["max_concurrency"] = 8
    config["filters"] = {"invoices": {"status": rare}}
    run = run_tap(config, catalog=select(discover(config), ["invoices"]))
    expected = sorted(r["id"] for r in truth if r["status"] == rare)
    assert expected
    assert sorted(run.ids("invoices")) == expected


def test_skewed_ids_are_stolen_not_waited_for():
    """All the ids sit in the last range: idle workers split it instead of stopping."""
    board = RangeBoard.split(0, 10_000, 4)
    ranges = [board.claim() for _ in range(4)]
    assert all(r is not None for r in ranges)
    # The first three ranges turn out empty.
    for r in ranges[:3]:
        assert r is not None
        page = board.fetched(r, [])
        board.emitted(page)
    busy = ranges[3]
    assert busy is not None
    page = board.fetched(busy, [{"id": 7_500 + i} for i in range(50)])
    stolen = board.claim()
    assert stolen is not None
    assert busy.upper == stolen.after
    assert stolen.after > 7_549
    # The owner's in-flight page reaching past the new bound keeps only its own ids.
    rows = [{"id": busy.after + i} for i in range(1, 51)]
    assert busy.upper is not None
    rows[-1]["id"] = busy.upper + 1
    mine = board.fetched(busy, rows)
    assert all(r["id"] <= busy.upper for r in mine.records)
    assert busy.exhausted
    board.emitted(page)
    board.emitted(mine)
    open_ranges = board.open_ranges()
    assert [stolen.emitted, stolen.upper] in open_ranges
    assert len(open_ranges) == 1


def paced_board() -> tuple[RangeBoard, list[KeyRange | None]]:
    """Four claimed 4-page ranges, paced at 25/s with 0.15 s pages: splitting one only adds a
    request (4 x 0.15 s < 16 pages / 25 per s)."""
    board = RangeBoard.split(0, 800, 4, rate=lambda: 25.0)
    ranges = [board.claim() for _ in range(4)]
    assert all(r is not None for r in ranges)
    board.note_round_trip(0.15)
    return board, ranges


def claim_in_thread(board: RangeBoard, stop: threading.Event) -> tuple[threading.Thread, list]:
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(board.claim(stop)), daemon=True)
    waiter.start()
    return waiter, got


def test_under_a_rate_limit_a_split_waits_until_it_pays():
    """Once the other three ranges end, the last one is split."""
    board, ranges = paced_board()
    assert board.claim() is None  # without a stop event a split that does not pay is refused
    waiter, got = claim_in_thread(board, threading.Event())
    for r in ranges[:3]:
        assert r is not None
        board.emitted(board.fetched(r, []))
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    last = ranges[3]
    assert last is not None
    assert got == [board.ranges[-1]]
    assert last.upper == board.ranges[-1].after  # the last range, halved


def test_a_waiting_split_ends_with_the_read():
    board, _ = paced_board()  # a split does not pay: the worker waits
    stop = threading.Event()
    waiter, got = claim_in_thread(board, stop)
    stop.set()  # the caller stopped: the worker leaves within a poll
    waiter.join(timeout=30)
    assert got == [None]


@pytest.mark.parametrize("rate", [None, 0.0])
def test_unpaced_a_split_is_made_at_once(rate):
    board = RangeBoard.split(0, 800, 4, rate=lambda: rate)
    assert all(board.claim() is not None for _ in range(4))
    board.note_round_trip(0.15)
    assert board.claim() is not None


def test_the_round_trip_is_smoothed():
    board = RangeBoard.split(0, 800, 1)
    board.note_round_trip(0.2)
    assert board.round_trip == pytest.approx(0.2)
    board.note_round_trip(1.2)
    assert 0.2 < board.round_trip < 1.2


def test_open_ranges_never_pass_unemitted_records():
    board = RangeBoard.split(0, 1_000, 2)
    first = board.claim()
    assert first is not None
    page = board.fetched(first, [{"id": i} for i in range(1, 51)])
    # Fetched but not yet written: a resumed run must read it again.
    assert board.open_ranges()[0][0] == 0
    board.emitted(page)
    assert board.open_ranges()[0][0] == 50


def test_a_failing_range_stops_the_run_and_its_workers(coupa, config):
    coupa.control.reset(counts={"invoices": 1000})
    config.update(max_concurrency=6, max_retries=1)
    catalog = select(discover(config), ["invoices"])
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "after": 4, "times": 1000, "status": 400}]
    )
    with pytest.raises(CoupaError):
        run_tap(config, catalog=catalog)
    deadline = time.monotonic() + 60  # bounded; threads stop within a page on an idle machine
    while time.monotonic() < deadline and any(
        t.name.startswith("invoices-range") and t.is_alive() for t in threading.enumerate()
    ):
        time.sleep(0.1)
    assert not any(t.name.startswith("invoices-range") for t in threading.enumerate())


def test_discovery_samples_streams_concurrently(coupa, config):
    coupa.control.configure(latency_ms=150)  # each sample is on the wire long enough to overlap
    catalog = discover(config)
    assert len(catalog["streams"]) == len(STREAMS)
    # Counted by the emulator, not by a stopwatch: one after another, never more than one.
    assert coupa.control.stats()["max_in_flight"] >= 4


def test_every_worker_joins_while_the_caller_waits_for_its_first_page():
    """Pages are slow: all 8 workers fetch at once before any page arrives.

    The first 8 fetches meet at a barrier (bounded: it breaks after 10 s), which only 8
    concurrent workers pass. Adding a worker per page received instead would stop at 3.
    """
    board = RangeBoard.split(0, 8_000, 8)
    barrier = threading.Barrier(8, timeout=10)
    calls = []
    lock = threading.Lock()

    def fetch(after: int, upper: int | None) -> list[dict]:
        with lock:
            calls.append(after)
            first_round = len(calls) <= 8
        if first_round:
            barrier.wait()
        return []

    reader = PartitionedReader(board, fetch, workers=8)
    list(reader.pages())  # a broken barrier is raised here
    assert not barrier.broken
    assert len(set(calls[:8])) == 8


def test_the_newest_id_probe_goes_out_with_the_first_page(coupa, config, monkeypatch):
    """The first page and the probe that splits the rest meet at a barrier: sent together.

    Sent one after the other, neither passes and the barrier breaks after 10 s.
    """
    coupa.control.reset(counts={"invoices": 300})
    catalog = select(discover(config), ["invoices"])
    barrier = threading.Barrier(2, timeout=10)
    send = CoupaClient.send

    def together(self, method, path, **kwargs):
        params = kwargs.get("params") or {}
        if path == "/api/invoices" and (params.get("dir") == "desc" or params.get("id[gt]") == 0):
            barrier.wait()
        return send(self, method, path, **kwargs)

    monkeypatch.setattr(CoupaClient, "send", together)
    before = len(coupa.control.requests_log())
    run = run_tap(config, catalog=catalog)
    assert sorted(run.ids("invoices")) == coupa.control.record_ids("invoices")
    assert not barrier.broken
    queries = [parse_qs(r["query"]) for r in invoice_gets(coupa, before)]
    assert len([q for q in queries if q.get("dir") == ["desc"]]) == 1, "one probe, not two"


def refuse_probes(
    coupa, config, invoices: int, status: int, times: int | None = None
) -> tuple[dict, int]:
    """`invoices` invoices whose newest-id probe (`dir=desc`) answers `status` (always, or the
    first `times` times): the catalog selecting them, and where the request log stands."""
    coupa.control.reset(counts={"invoices": invoices})
    catalog = select(discover(config), ["invoices"])
    rule = {"kind": "status", "path": "/api/invoices", "query": ["dir=desc"], "status": status}
    if times is not None:
        rule["times"] = times
    coupa.control.add_faults([rule])
    return catalog, len(coupa.control.requests_log())


def probes_since(coupa, before: int) -> list[dict]:
    """The newest-id probes the emulator logged after entry `before`."""
    return [r for r in invoice_gets(coupa, before) if parse_qs(r["query"]).get("dir") == ["desc"]]


def test_a_refused_newest_id_probe_stops_the_read_once_not_twice(coupa, config):
    """The probe sent with the first page answers 400 once: the read stops with that error.

    It is not sent a second time (that would repeat every retry); before the probe went out
    with the first page, the same 400 stopped the read the same way.
    """
    catalog, before = refuse_probes(coupa, config, 300, 400)
    with pytest.raises(CoupaError, match="400"):
        run_tap(config, catalog=catalog)
    assert len(probes_since(coupa, before)) == 1


def test_a_short_first_page_does_not_wait_on_the_probes_retries(coupa, config):
    """The probe sent with a short first page answers 503 three times: it is sent once.

    A short first page needs no range split, so the probe's answer is not used; with its
    retries the read would send it until Coupa answered (four times here, minutes on a tenant
    that always answers 503), before the probe went out with the first page it was not sent.
    """
    catalog, before = refuse_probes(coupa, config, 10, 503, times=3)
    run = run_tap(config, catalog=catalog)
    assert sorted(run.ids("invoices")) == coupa.control.record_ids("invoices")
    assert len(probes_since(coupa, before)) == 1


def test_a_probe_that_failed_with_the_first_page_is_retried_when_the_split_needs_it(coupa, config):
    """A 503 to the probe sent with a full first page: the split sends it again, with retries."""
    catalog, before = refuse_probes(coupa, config, 300, 503, times=2)
    run = run_tap(config, catalog=catalog)
    assert sorted(run.ids("invoices")) == coupa.control.record_ids("invoices")
    assert [r["status"] for r in probes_since(coupa, before)] == [503, 503, 200]
