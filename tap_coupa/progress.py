"""What an operator sees while a sync runs: periodic progress lines and one end-of-run summary.

The SDK's own `record_count` metric prints per-interval counts without a running total, and under
Meltano without the stream's name; its per-request `http_request_duration` lines bury everything
else. This reporter reads the streams' counters (tap_coupa.stats) and the run's rate controller
from a daemon thread and writes, every `progress_interval` seconds, one line per active stream:
name, running total, pages, requests/s, 429s and retries, and where the id range is known the
share done and an ETA. At the end it writes one table for the whole run. It only reads counters,
so it costs the sync nothing but a lock per snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from singer_sdk import metrics
from typing_extensions import override

from coupa_api.ratelimit import RateCounters
from tap_coupa.stats import StreamProgress, StreamStats

#: Per-request metric lines the SDK logs at INFO; kept only when the log level is DEBUG.
PER_REQUEST_METRICS = ("http_request_duration",)
#: The context key of a line stream's child sync (tap_coupa.lines): one per parent page.
CHILD_SYNC_KEY = "parent_page"


@dataclass
class _Seen:
    """What the previous progress line saw of one stream (for the requests/s of an interval)."""

    requests: int
    at: float


def quiet_per_request_metrics(logger: logging.Logger) -> None:
    """Drop the SDK's per-request METRIC lines unless `logger` runs at DEBUG.

    Installed on the SDK's metrics logger once; checked per record, so raising the log level to
    DEBUG (`TAP_COUPA_LOGLEVEL=debug`) brings them back without a restart of anything else.
    """
    metrics_logger = metrics.get_metrics_logger()
    for installed in metrics_logger.filters:
        if isinstance(installed, _PerRequestFilter):
            installed.level_of = logger  # one filter per process, following the newest tap
            return
    metrics_logger.addFilter(_PerRequestFilter(logger))


class _PerRequestFilter(logging.Filter):
    """Per-request metrics, and the per-page ones of line streams' child syncs (one a page).

    A plain `logging.Filter` on the public metrics API: singer-sdk logs each measurement as
    `logger.info("METRIC: %s", point)` with a `metrics.Point` as the argument
    (`singer_sdk.metrics.log`), and a point names its metric and carries its tags.
    """

    def __init__(self, level_of: logging.Logger) -> None:
        super().__init__()
        self.level_of = level_of

    @staticmethod
    def excludes(point: metrics.Point[Any]) -> bool:
        """A per-request metric, or any metric of a line stream's per-page child sync."""
        context = point.tags.get("context")
        per_page = isinstance(context, Mapping) and CHILD_SYNC_KEY in context
        name = getattr(point.metric, "value", point.metric)  # a `metrics.Metric`
        return per_page or name in PER_REQUEST_METRICS

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if self.level_of.isEnabledFor(logging.DEBUG):
            return True
        args = record.args
        point = args[0] if isinstance(args, tuple) and args else None
        return not (isinstance(point, metrics.Point) and self.excludes(point))


class _FirstChildSyncOnly(logging.Filter):
    """Lets through the SDK's announcement of a child sync once, not once per parent page."""

    PREFIXES = ("Beginning sync of", "Starting incremental sync of")

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str) or not message.startswith(self.PREFIXES):
            return True
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def quiet_child_syncs(logger: logging.Logger) -> None:
    """Announce a line stream's per-page child syncs once per run instead of at every page."""
    if not any(isinstance(f, _FirstChildSyncOnly) for f in logger.filters):
        logger.addFilter(_FirstChildSyncOnly())


def duration(seconds: float) -> str:
    """`1:02:03` / `2:03`: short enough for a log line."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size(n: int) -> str:
    """Bytes in the largest unit that keeps the number short."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


def eta(progress: StreamProgress, now: float) -> str | None:
    """`62% of ids, ETA 0:41` when the id range is known and something is done."""
    fraction = progress.fraction_done
    if fraction is None or progress.started is None:
        return None
    text = f"{fraction:.0%} of ids"
    elapsed = now - progress.started
    if 0 < fraction < 1 and elapsed > 0:
        text += f", ETA {duration(elapsed * (1 - fraction) / fraction)}"
    return text


class ProgressReporter:
    """Periodic progress lines and the end-of-run summary of one tap run."""

    def __init__(
        self,
        stats: Mapping[str, StreamStats],
        counters: Callable[[], RateCounters],
        logger: logging.Logger,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = stats
        self.counters = counters
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.started: float | None = None
        self._seen: dict[str, _Seen] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._summarised = False

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Begin reporting (idempotent: every stream calls it when it starts reading)."""
        with self._lock:
            if self.started is not None:
                return
            self.started = self.clock()
            if self.interval > 0:
                self._thread = threading.Thread(
                    target=self._run, name="tap-coupa-progress", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the periodic lines (the summary is separate)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for line in self.lines():
                self.logger.info("%s", line)

    # -- what is printed ----------------------------------------------------------------------
    def lines(self) -> list[str]:
        """One line per stream that has started and not finished."""
        now = self.clock()
        out: list[str] = []
        for stream_stats in list(self.stats.values()):
            snap = stream_stats.snapshot()
            if snap.started is None or snap.finished is not None:
                continue
            out.append(self.line(snap, now))
        return out

    def line(self, snap: StreamProgress, now: float) -> str:
        """`progress invoices: 12,350 records, 247 pages, 24.8 req/s, 0 429s, 1 retry, ...`."""
        seen = self._seen.get(snap.stream)
        since = seen.at if seen else (snap.started or now)
        before = seen.requests if seen else 0
        rate = (snap.requests - before) / (now - since) if now > since else 0.0
        self._seen[snap.stream] = _Seen(snap.requests, now)
        if not snap.requests and not snap.pages:
            # A line stream: its lines come in its parent's pages, at no request of its own.
            return f"progress {snap.stream}: {snap.records:,} records (from its parent's pages)"
        parts = [
            f"{snap.records:,} records",
            f"{snap.pages:,} pages",
            f"{rate:.1f} req/s",
            f"{snap.throttled:,} 429s",
            f"{snap.retries:,} retries",
        ]
        done = eta(snap, now)
        if done:
            parts.append(done)
        return f"progress {snap.stream}: " + ", ".join(parts)

    def summary(self) -> str:
        """The end-of-run table: one row per stream that did anything, then the totals."""
        now = self.clock()
        rows: list[tuple[str, int, int, int, int, int, float]] = []
        for stream_stats in self.stats.values():
            snap = stream_stats.snapshot()
            if snap.started is None and not snap.records and not snap.requests:
                continue
            end = snap.finished if snap.finished is not None else now
            seconds = end - snap.started if snap.started is not None else 0.0
            rows.append(
                (
                    snap.stream,
                    snap.records,
                    snap.requests,
                    snap.retries,
                    snap.throttled,
                    snap.bytes,
                    seconds,
                )
            )
        run = self.counters()
        wall = now - self.started if self.started is not None else 0.0
        width = max([len("stream"), len("total"), *(len(r[0]) for r in rows)])
        header = (
            f"{'stream':<{width}} {'records':>10} {'requests':>9} {'retries':>8} "
            f"{'429s':>6} {'bytes':>10} {'seconds':>8}"
        )
        table = [header, "-" * len(header)]
        for name, records, requests, retries, throttled, nbytes, seconds in rows:
            table.append(
                f"{name:<{width}} {records:>10,} {requests:>9,} {retries:>8,} "
                f"{throttled:>6,} {size(nbytes):>10} {seconds:>8.1f}"
            )
        table.append("-" * len(header))
        table.append(
            f"{'total':<{width}} {sum(r[1] for r in rows):>10,} {run.requests:>9,} "
            f"{run.retries:>8,} {run.throttled:>6,} {size(sum(r[5] for r in rows)):>10} "
            f"{wall:>8.1f}"
        )
        heading = "tap-coupa run summary (the total also counts token and discovery requests):"
        return heading + "\n" + "\n".join("  " + line for line in [*table, *self.skips()])

    def skips(self) -> list[str]:
        """Parents deleted mid-run whose sub-resource rows were skipped (tap_coupa.subresources)."""
        lines = []
        for stream_stats in self.stats.values():
            snap = stream_stats.snapshot()
            if snap.skipped:
                lines.append(
                    f"{snap.stream}: {snap.skipped:,} parent record(s) deleted during the run, "
                    "their rows skipped (Coupa answered 404; see the log for their ids)"
                )
        return lines

    def finish(self) -> None:
        """Stop the lines and write the summary, once."""
        self.stop()
        with self._lock:
            if self._summarised or self.started is None:
                return
            self._summarised = True
        self.logger.info("%s", self.summary())
