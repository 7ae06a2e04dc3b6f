"""Sinks: `invoices` records go to the target's write pool; other streams are skipped or refused.

The pool (target_coupa.pool) writes concurrently and tells the target when a STATE may go out.
singer-sdk stops the whole run on the first bad record; here a record that cannot be read,
fails the schema, lacks its key or is refused by Coupa is rejected on its own and the run goes
on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from singer_sdk import Target
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import RecordSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator, JSONSchemaValidator
from typing_extensions import override

from target_coupa.outcomes import Outcome, OutcomeLedger, RecordOutcome
from target_coupa.payloads import InvoiceKey, PayloadError, key_of, request_from
from target_coupa.poison import escape, problem_of
from target_coupa.pool import WritePool
from target_coupa.writer import WriteResult


@dataclass(frozen=True)
class SinkServices:
    """What every sink needs from the run, handed to it when the target creates it.

    Sinks hold this instead of the target, so what a sink may touch is written down here.
    """

    #: Every record's outcome (and the dead-letter file).
    ledger: OutcomeLedger
    #: Resolve and report, write nothing.
    dry_run: bool
    #: Call first in `process_record`: the record is the sink's now; returns its input line.
    take_record: Callable[[], int | None]
    #: Why a stream is not written, naming the streams that are.
    unsupported_message: Callable[[str], str]


@dataclass(frozen=True)
class WriteServices(SinkServices):
    """What a sink that writes to Coupa needs besides: the write pool and the first-write hook."""

    #: Batched look-ups and concurrent writers; holds each STATE until it is due.
    pool: WritePool
    #: Mint the token with the write scopes before the first record (idempotent).
    start_writing: Callable[[], None]


def schema_problem_of(validator: JSONSchemaValidator | None, record: dict[str, Any]) -> str | None:
    """Why `record` fails the stream's schema (None when it passes or nothing validates)."""
    if validator is None:
        return None
    try:
        validator.validate(record)
    except InvalidRecord as exc:
        path = "/".join(str(p) for p in getattr(exc.__cause__, "absolute_path", []))
        where = f" at {path}" if path else ""
        return f"fails the stream's schema{where}: {exc.error_message}"
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
    """Common ground: the run's services (ledger, line numbers), never the target itself."""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
        *,
        services: SinkServices,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.services = services
        self.schema = _without_formats(copy.deepcopy(self.schema))

    def take(self) -> int | None:
        """Call first in `process_record`: the record is ours now; its input line number.

        From here on a failure is the run's (it stops), no longer the record's: the target
        dead-letters what singer-sdk raises before `process_record` only.
        """
        return self.services.take_record()

    def report(self, result: RecordOutcome) -> None:
        """Hand a record's outcome to the run's ledger."""
        self.services.ledger.add(result)


class InvoiceSink(CoupaSink):
    """Upserts each `invoices` record into Coupa by supplier + invoice number."""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
        *,
        services: WriteServices,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties, services=services)
        self.writes = services
        #: The stream's schema check, run in `process_record` so that a failure rejects the
        #: record instead of stopping the run (see `get_validator`).
        self.schema_check = JSONSchemaValidator(self.schema) if self.validate_schema else None

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """None: singer-sdk would stop the run on the first record that fails the schema.

        `process_record` checks the schema itself (`schema_check`) and rejects that record.
        """
        return None

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Give the record exactly one outcome; raise only when the whole run must stop.

        What can be told from the record alone (unreadable text, no key, schema) is decided
        here, at once; the rest goes to the write pool, which reports back in `_done` from a
        worker thread.
        """
        line = self.take()
        self.writes.start_writing()  # first record: token with the write scopes
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
        if (problem := schema_problem_of(self.schema_check, record)) is not None:
            self._reject(record, key.as_dict(), problem, "schema", line)
            return
        request = request_from(record)
        self.writes.pool.submit(key, request, lambda result: self._done(record, key, result, line))

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
        dry_run = self.services.dry_run
        verb = {
            Outcome.CREATED: "would create" if dry_run else "created",
            Outcome.UPDATED: "would update" if dry_run else "updated",
            Outcome.UNCHANGED: "left unchanged",
            Outcome.SUBMITTED: "would submit the draft" if dry_run else "submitted the draft",
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

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
        *,
        services: SinkServices,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties, services=services)
        # Taken as it is: a schema that declares nothing and allows everything, so singer-sdk
        # neither parses dates nor warns "No schema for record field" about a stream that is
        # not written.
        self.schema = {"type": "object", "properties": {}, "additionalProperties": True}

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Nothing is written, so nothing is validated."""
        return None

    @override
    def setup(self) -> None:
        """Say once per stream that its records are skipped, and why."""
        self.logger.warning("%s", self.services.unsupported_message(self.stream_name))

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Count the record as skipped; nothing is written."""
        line = self.take()
        self.report(RecordOutcome(outcome=Outcome.SKIPPED, stream=self.stream_name, line=line))


class IgnoredLinesSink(SkippedStreamSink):
    """`invoice_lines` next to `invoices`: redundant (lines travel inside each invoice).

    Accepted and counted as skipped with one note when its SCHEMA arrives, whatever
    `on_unsupported_stream` says: a tap that selects lines as well must not fail the run.
    """

    @override
    def setup(self) -> None:
        """One note, before any of its records."""
        self.logger.info(
            "Ignoring stream '%s': invoice lines are written from the `invoice-lines` inside "
            "each `invoices` record, so its records are counted as skipped.",
            self.stream_name,
        )
