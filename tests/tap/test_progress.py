"""Progress lines and the end-of-run summary (issue 10): what an operator sees while a tap runs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from singer_sdk import metrics

from coupa_api.ratelimit import RateCounters
from tap_coupa.progress import ProgressReporter, duration, quiet_per_request_metrics
from tap_coupa.stats import StreamStats
from tests.tap.conftest import discover, run_cli, select, tap_config


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counters() -> RateCounters:
    return RateCounters(requests=41, throttled=2, retries=3, rate=25.0, paused_seconds=0.0)


def test_line_names_the_stream_with_running_total_rate_and_eta() -> None:
    clock = FakeClock()
    stats = StreamStats("invoices")
    reporter = ProgressReporter(
        {"invoices": stats}, counters, logging.getLogger("t"), interval=0, clock=clock
    )
    stats.add(records=0)
    stats.started = clock.now  # the stream started reading at the reporter's "now"
    clock.now += 10
    stats.add(records=2500, pages=50, requests=50, throttled=1, retries=2, bytes=10_000)
    stats.set_range(known=10_000, done=2500)
    (line,) = reporter.lines()
    assert line.startswith("progress invoices: 2,500 records, 50 pages, 5.0 req/s")
    assert "1 429s" in line
    assert "2 retries" in line
    # A quarter done in 10 s: 30 s to go.
    assert "25% of ids, ETA 0:30" in line
    # The next interval's requests/s counts only what happened since the last line.
    clock.now += 5
    stats.add(requests=5)
    (line,) = reporter.lines()
    assert "1.0 req/s" in line


def test_finished_and_unstarted_streams_have_no_progress_line() -> None:
    clock = FakeClock()
    done, idle = StreamStats("done"), StreamStats("idle")
    done.add(records=3)
    done.finish()
    reporter = ProgressReporter(
        {"done": done, "idle": idle}, counters, logging.getLogger("t"), interval=0, clock=clock
    )
    assert reporter.lines() == []


def test_summary_table_has_every_stream_and_run_totals() -> None:
    clock = FakeClock()
    a, b = StreamStats("invoices"), StreamStats("invoice_lines")
    reporter = ProgressReporter(
        {"invoices": a, "invoice_lines": b}, counters, logging.getLogger("t"), clock=clock
    )
    reporter.started = clock.now
    a.add(records=120, pages=3, requests=3, bytes=3 * 1024 * 1024)
    b.add(records=360)
    clock.now += 12.5
    a.finish()
    b.finish()
    text = reporter.summary()
    rows = {line.split()[0]: line.split() for line in text.splitlines()[1:]}
    assert rows["invoices"][1:3] == ["120", "3"]
    assert rows["invoice_lines"][1] == "360"
    total = rows["total"]
    assert total[1] == "480"  # records of every stream
    assert total[2:5] == ["41", "3", "2"]  # requests, retries, 429s of the whole run
    assert total[-1] == "12.5"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (61, "1:01"), (3723, "1:02:03")]
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_per_request_metrics_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    level_of = logging.getLogger("tap-coupa-progress-test")
    quiet_per_request_metrics(level_of)
    point = metrics.Point("timer", metrics.Metric.HTTP_REQUEST_DURATION, 0.1, {})
    count = metrics.Point("counter", metrics.Metric.RECORD_COUNT, 5, {})
    logger = metrics.get_metrics_logger()
    with caplog.at_level(logging.INFO, logger=logger.name):
        level_of.setLevel(logging.INFO)
        metrics.log(logger, point)
        metrics.log(logger, count)
        level_of.setLevel(logging.DEBUG)
        metrics.log(logger, point)
    texts = [r.getMessage() for r in caplog.records]
    assert sum("http_request_duration" in t for t in texts) == 1  # only the DEBUG one
    assert any("record_count" in t for t in texts)


def test_cli_prints_progress_lines_and_one_summary(coupa: Any, tmp_path: Any) -> None:
    """Over real HTTP: slow pages, a 1 s interval -> named progress lines, then the table."""
    coupa.control.configure(latency_ms=700)
    config = tap_config(coupa.base_url, progress_interval=1, max_concurrency=1)
    catalog = select(discover(config), ["invoices"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = run_cli(["--catalog", str(tmp_path / "catalog.json")], config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    err = result.stderr
    assert "progress invoices: " in err
    assert err.count("tap-coupa run summary") == 1
    summary = err[err.index("tap-coupa run summary") :]
    assert "invoices" in summary
    assert "120" in summary  # the emulator's 120 invoices
    assert "http_request_duration" not in err
