"""Every input record ends with exactly one outcome; the ledger counts them and keeps the bad ones.

Outcomes: created, updated, unchanged (a re-sent identical invoice; no write), submitted (with
`submit: true`, an identical invoice found still a draft, e.g. left by an interrupted run, and
submitted now), conflict (the invoice exists but Coupa no longer lets it change), rejected
(unreadable, schema, key, or Coupa refused it) and skipped (a record of a stream the target does
not write). Records finish in any order when the pool writes concurrently, so the ledger locks.
Conflicts and rejections go to the dead-letter file, one JSON object per line (with the input
line number the record came on), written and synced before the record counts as done, so a
STATE emitted after it never acknowledges a record that is neither in Coupa nor in the file.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from coupa_api.redact import redact
from target_coupa.poison import escape, escaped


class Outcome(enum.StrEnum):
    """What happened to one input record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SUBMITTED = "submitted"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    SKIPPED = "skipped"


#: Outcomes that put the record in the dead-letter file.
DEAD_LETTERED = frozenset({Outcome.CONFLICT, Outcome.REJECTED})


@dataclass(frozen=True)
class RecordOutcome:
    """One record's outcome and, for the bad ones, why."""

    outcome: Outcome
    stream: str
    key: Mapping[str, Any] | None = None
    coupa_id: int | None = None
    status: int | None = None
    errors: Sequence[str] = ()
    stage: str | None = None
    record: Mapping[str, Any] | None = field(default=None, repr=False)
    #: The input line the record came on (1-based), so a dead letter can be found in the input.
    line: int | None = None

    def dead_letter(self, secrets: Sequence[str]) -> dict[str, Any]:
        """The dead-letter line: input line, key, HTTP status, Coupa's messages, the record.

        Text that cannot be UTF-8 (a poison record) is escaped, so the line can always be written.
        """
        entry: dict[str, Any] = escaped(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "stream": self.stream,
                "line": self.line,
                "outcome": self.outcome.value,
                "stage": self.stage,
                "key": self.key,
                "coupa_id": self.coupa_id,
                "status": self.status,
                "errors": [redact(escape(str(e)), *secrets) for e in self.errors],
                "record": self.record,
            }
        )
        return entry


class OutcomeLedger:
    """Counts outcomes, writes the dead-letter file, and says what a run did.

    `dead_letter_path=None` (the dry run) keeps everything in memory and in the log.
    """

    def __init__(
        self,
        dead_letter_path: Path | None,
        logger: logging.Logger,
        *,
        secrets: Sequence[str] = (),
    ) -> None:
        self.dead_letter_path = dead_letter_path
        self.logger = logger
        self.secrets = tuple(s for s in secrets if s)
        self.counts: Counter[Outcome] = Counter()
        self.dead_letters = 0
        self._file: IO[str] | None = None
        self._lock = threading.Lock()

    @property
    def received(self) -> int:
        """Records that reached the target (every one gets an outcome)."""
        return sum(self.counts.values())

    @property
    def rejected(self) -> int:
        """Records Coupa or the target refused."""
        return self.counts[Outcome.REJECTED]

    def add(self, result: RecordOutcome) -> None:
        """Count `result`; dead-letter it (durably) if it is a conflict or a rejection."""
        with self._lock:
            if result.outcome in DEAD_LETTERED and self.dead_letter_path is not None:
                self._append(result.dead_letter(self.secrets))
                self.dead_letters += 1
            self.counts[result.outcome] += 1

    def _append(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            assert self.dead_letter_path is not None  # noqa: S101 - checked by the caller
            self.dead_letter_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.dead_letter_path.open("a", encoding="utf-8")
        self._file.write(json.dumps(entry, default=str, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the dead-letter file if one was opened."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def summary(self, *, dry_run: bool = False) -> str:
        """One line: the counts, which add up to the records received."""
        parts = ", ".join(f"{self.counts[o]} {o.value}" for o in Outcome)
        prefix = "Dry run (nothing written): " if dry_run else ""
        where = ""
        if self.dead_letters and self.dead_letter_path is not None:
            where = f"; {self.dead_letters} dead-lettered to {self.dead_letter_path}"
        if dry_run:
            where += (
                "; no STATE emitted, so bookmarks stay where they were and the real run "
                "writes every invoice this one looked at"
            )
        return f"{prefix}{self.received} records received: {parts}{where}."
