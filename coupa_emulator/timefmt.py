"""Coupa's timestamps: instants held as epoch seconds, shown in the instance's local offset.

The instance zone is America/Los_Angeles, so the same format yields `-07:00` in summer and
`-08:00` in winter and string order stops matching time order around the November fall-back.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

INSTANCE_TZ = ZoneInfo("America/Los_Angeles")

#: All matched with `fullmatch`: `$` under `match` accepts a final newline.
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
# What Coupa emits; used to recognise datetime-valued attributes in stored records.
EMITTED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


@lru_cache(maxsize=65536)
def fmt(ts: int) -> str:
    """An epoch second as Coupa prints it: local wall time with the offset in force then."""
    return datetime.fromtimestamp(ts, INSTANCE_TZ).isoformat()


#: The instance clock's offset from the host's (the `clock_offset_seconds` knob; one value per
#: process, set by the server for every request).
CLOCK = {"offset": 0.0}


def now_ts() -> int:
    """Now on the instance's clock, to the second (Coupa timestamps carry no fractions)."""
    return int(datetime.now(UTC).timestamp() + CLOCK["offset"])


def local_ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch seconds of a local wall-clock time in the instance zone (first fold)."""
    return int(datetime(year, month, day, hour, minute, tzinfo=INSTANCE_TZ).timestamp())


def parse_instant(text: str) -> float | None:
    """Parse a filter value the way Coupa documents it; None if it is not a datetime.

    Offsets are honoured; a bare date is midnight UTC (reference §5.1); a datetime without an
    offset is taken as instance-local time (Rails' Time.zone.parse), first fold.
    """
    text = text.strip()
    if _DATE_ONLY.fullmatch(text):
        d = date.fromisoformat(text)
        return datetime.combine(d, time(0), tzinfo=UTC).timestamp()
    if not _DATETIME.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=INSTANCE_TZ)
    return parsed.timestamp()
