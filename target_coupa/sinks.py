"""Sinks: `invoices` records go to the target's write pool; other streams are skipped or refused.

The pool (target_coupa.pool) writes concurrently and tells the target when a STATE may go out.
singer-sdk stops the whole run on the first bad record; here a record that cannot be read,
fails the schema, lacks its key or is refused by Coupa is rejected on its own and the run goes
on.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import RecordSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator, JSONSchemaValidator

from target_coupa.outcomes import Outcome, RecordOutcome
from target_coupa.payloads import InvoiceKey, PayloadError, key_of, request_from
from target_coupa.poison import escape, problem_of
from target_coupa.writer import InvoiceWriter, WriteResult

if TYPE_CHECKING:
    from target_coupa.target import TargetCoupa


class RememberingValidator(BaseJSONSchemaValidator):
    """Validates like singer-sdk but remembers the failure instead of stopping the run.

    The SDK validates a record before handing it to `process_record`; raising there would end
    the run. This validator keeps the reason for the record it last saw, and the sink rejects
    that record (dead letter, counted) when it arrives.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        self._inner = JSONSchemaValidator(schema)
        self._last: tuple[int, str] | None = None

    def validate(self, record: dict[str, Any]) -> None:
        """Remember why `record` fails the stream's schema (or that it passes)."""
        try:
            self._inner.validate(record)
        except InvalidRecord as exc:
            path = "/".join(str(p) for p in getattr(exc.__cause__, "absolute_path", []))
            where = f" at {path}" if path else ""
            self._last = (id(record), f"fails the stream's schema{where}: {exc.error_message}")
        else:
            self._last = None

    def problem_for(self, record: dict[str, Any]) -> str | None:
        """The schema problem of `record`, if it is the record validated last."""
        if self._last is not None and self._last[0] == id(record):
            return self._last[1]
        return None


def _without_formats(schema: Any) -> Any:
    """A copy of `schema` without `format` keywords.

    singer-sdk parses `date-time` strings into datetime objects before `process_record`, and
    stops the run on one it cannot parse. The target sends Coupa back its own strings, and a
    bad date is Coupa's to refuse for that one record.
    """
    if isinstance(schema, dict):
        return {k: _without_formats(v) for k, v in schema.items() if k != "format"}
    if isinstance(schema, list):
        return [_without_formats(v) for v in schema]
    return schema


class CoupaSink(RecordSink):
    """Common ground: access to the target's Coupa client and outcome ledger."""

    def __init__(
        self,
        target: TargetCoupa,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.coupa_target = target
        self.schema = _without_formats(copy.deepcopy(self.schema))

    def take(self) -> int | None:
        """Call first in `process_record`: the record is ours now; its input line number.

        From here on a failure is the run's (it stops), no longer the record's: the target
        dead-letters what singer-sdk raises before `process_record` only.
        """
        return self.coupa_target.take_record()

    def report(self, result: RecordOutcome) -> None:
        """Hand a record's outcome to the run's ledger."""
        self.coupa_target.ledger.add(result)


class InvoiceSink(CoupaSink):
    """Upserts each `invoices` record into Coupa by supplier + invoice number."""

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Schema failures reject the record, not the run (see RememberingValidator)."""
        if not self.validate_schema:
            return None
        return RememberingValidator(self.schema)

    @property
    def writer(self) -> InvoiceWriter:
        """The target's writer (shared by every sink of the run)."""
        return self.coupa_target.writer

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Give the record exactly one outcome; raise only when the whole run must stop.

        What can be told from the record alone (unreadable text, no key, schema) is decided
        here, at once; the rest goes to the target's write pool, which reports back in
        `_done` from a worker thread.
        """
        line = self.take()
        self.coupa_target.start_writing()  # first record: token with the write scopes
        problem = None
        if isinstance(self._validator, RememberingValidator):
            problem = self._validator.problem_for(record)
        if text := problem_of(record):
            try:
                known: Mapping[str, Any] | None = key_of(record).as_dict()
            except PayloadError:
                known = None
            self._reject(record, known, text, "text", line)
            return
        try:
            key = key_of(record)
        except PayloadError as exc:
            self._reject(record, None, str(exc), "key", line)
            return
        if problem is not None:
            self._reject(record, key.as_dict(), problem, "schema", line)
            return
        request = request_from(record)
        self.coupa_target.pool.submit(
            key, request, lambda result: self._done(record, key, result, line)
        )

    def _reject(
        self,
        record: Mapping[str, Any],
        key: Mapping[str, Any] | None,
        why: str,
        stage: str,
        line: int | None,
    ) -> None:
        self._report(record, key, WriteResult(Outcome.REJECTED, errors=(why,), stage=stage), line)

    def _done(
        self, record: Mapping[str, Any], key: InvoiceKey, result: WriteResult, line: int | None
    ) -> None:
        self._log(key, result)
        self._report(record, key.as_dict(), result, line)

    def _report(
        self,
        record: Mapping[str, Any],
        key: Mapping[str, Any] | None,
        result: WriteResult,
        line: int | None,
    ) -> None:
        self.report(
            RecordOutcome(
                outcome=result.outcome,
                stream=self.stream_name,
                key=key,
                coupa_id=result.coupa_id,
                status=result.status,
                errors=result.errors,
                stage=result.stage,
                record=record,
                line=line,
            )
        )
        where = f" (input line {line})" if line else ""
        if result.outcome is Outcome.REJECTED and key is None:
            self.logger.warning(
                "Rejected a record without a usable key%s: %s", where, result.errors[0]
            )
        elif result.outcome is Outcome.REJECTED and result.stage in ("schema", "text"):
            shown = escape(str(key))
            self.logger.warning("Rejected the record %s%s: %s", shown, where, result.errors[0])

    def _log(self, key: Any, result: WriteResult) -> None:
        verb = {
            Outcome.CREATED: "would create" if self.coupa_target.dry_run else "created",
            Outcome.UPDATED: "would update" if self.coupa_target.dry_run else "updated",
            Outcome.UNCHANGED: "left unchanged",
            Outcome.SUBMITTED: "would submit the draft"
            if self.coupa_target.dry_run
            else ("submitted the draft"),
            Outcome.CONFLICT: "conflict, not touched",
            Outcome.REJECTED: "rejected",
        }.get(result.outcome, result.outcome.value)
        where = f" (Coupa id {result.coupa_id})" if result.coupa_id else ""
        if result.outcome in (Outcome.CONFLICT, Outcome.REJECTED):
            status = f" HTTP {result.status}:" if result.status else ""
            self.logger.warning(
                "%s%s: %s;%s %s", key, where, verb, status, " | ".join(result.errors)
            )
        else:
            self.logger.info("%s%s: %s", key, where, verb)


class SkippedStreamSink(CoupaSink):
    """A stream the target does not write, with `on_unsupported_stream: skip`: count, ignore."""

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Nothing is written, so nothing is validated."""
        return None

    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        """Taken as it is: no per-field warnings about a stream that is not written."""
        return record

    def setup(self) -> None:
        """Say once per stream that its records are skipped, and why."""
        self.logger.warning("%s", self.coupa_target.unsupported_message(self.stream_name))

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Count the record as skipped; nothing is written."""
        line = self.take()
        self.report(RecordOutcome(outcome=Outcome.SKIPPED, stream=self.stream_name, line=line))


class IgnoredLinesSink(SkippedStreamSink):
    """`invoice_lines` next to `invoices`: redundant (lines travel inside each invoice).

    Accepted and counted as skipped with one note when its SCHEMA arrives, whatever
    `on_unsupported_stream` says: a tap that selects lines as well must not fail the run.
    """

    def setup(self) -> None:
        """One note, before any of its records."""
        self.logger.info(
            "Ignoring stream '%s': invoice lines are written from the `invoice-lines` inside "
            "each `invoices` record, so its records are counted as skipped.",
            self.stream_name,
        )
