"""TargetCoupa: settings, the shared Coupa connection, STATE timing, the summary and exit code."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from functools import cached_property, partial
from pathlib import Path
from typing import Any, ClassVar, cast

import click
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TargetCapabilities,
)
from singer_sdk.io_base import SingerMessageType
from singer_sdk.sinks import Sink
from typing_extensions import override

from coupa_api.cli import CoupaPluginMixin, explain_errors
from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaError
from coupa_api.exitcodes import ExitCode
from coupa_api.numeric_settings import CONNECTION_NUMBERS, TARGET_NUMBERS
from coupa_api.settings import CONNECTION_PROPERTIES, connection_problems
from target_coupa import connection_check, intake
from target_coupa.outcomes import Outcome, OutcomeLedger, RecordOutcome
from target_coupa.pool import DEFAULT_MAX_CONCURRENCY, WritePool
from target_coupa.reading import Handler, TolerantReader, unreadable_reason
from target_coupa.references import ReferenceResolver
from target_coupa.settings import (
    DEFAULT_DEAD_LETTER_PATH,
    DEFAULT_SCOPES,
    TARGET_PROPERTIES,
    target_problems,
)
from target_coupa.sinks import (
    CoupaSink,
    IgnoredLinesSink,
    InvoiceSink,
    SinkServices,
    SkippedStreamSink,
    WriteServices,
)
from target_coupa.writer import InvoiceWriter

#: Streams the target writes, and the sink that writes each.
SUPPORTED_STREAMS: dict[str, type[InvoiceSink]] = {"invoices": InvoiceSink}

#: Streams accepted and ignored (one note, records counted as skipped): their content is
#: already inside `invoices`, so a tap that selects them too must not fail the run.
IGNORED_STREAMS: dict[str, type[CoupaSink]] = {"invoice_lines": IgnoredLinesSink}


def _properties(*groups: tuple[th.Property[Any], ...]) -> th.PropertiesList:
    """One PropertiesList, a later property of the same name replacing an earlier one."""
    by_name: dict[str, th.Property[Any]] = {}
    for group in groups:
        for prop in group:
            by_name[prop.name] = prop
    return th.PropertiesList(*by_name.values())


class RejectedRecordsError(CoupaError):
    """Some records were rejected and `allow_failures` is off: the run exits 3, after the end."""

    exit_code = ExitCode.REJECTED


class TargetCoupa(CoupaPluginMixin, Target):
    """Singer target that creates or updates invoices in Coupa, upserting by supplier + number."""

    name = "target-coupa"
    #: The distribution that ships both connectors (for `--version` and `--about`).
    package_name = "tap-coupa"
    config_jsonschema = _properties(CONNECTION_PROPERTIES, TARGET_PROPERTIES).to_dict()
    #: Undecodable or unparseable input lines become rejected records, not a stopped run.
    message_reader_class = TolerantReader
    #: No flattening: a flattened invoice loses the nested stubs and lines Coupa needs.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.STRUCTURED_LOGGING,
        TargetCapabilities.VALIDATE_RECORDS,
    ]
    numeric_settings = (*CONNECTION_NUMBERS, *TARGET_NUMBERS)
    #: Built-in settings that mean nothing here: every invoice is upserted on its own.
    IGNORED_BUILTIN_SETTINGS: ClassVar[tuple[str, ...]] = ("load_method", "batch_size_rows")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kwargs.get("validate_config", True):
            self.check_config()
        # Record sinks hold nothing to drain; a thread pool per STATE would only cost time.
        self.max_parallelism = 1
        self._last_state_line: str | None = None
        self._writing_started = False
        #: Whether the RECORD being handled reached a sink's `process_record`.
        self._record_taken = False
        #: Streams whose last SCHEMA was refused: (its input line, why).
        self._refused_schemas: dict[str, tuple[int | None, str]] = {}
        reader = self.message_reader
        if not isinstance(reader, TolerantReader):
            msg = (
                f"target-coupa reads its input with TolerantReader (target_coupa.reading), "
                f"not {type(reader).__name__}: it hands the target each message."
            )
            raise TypeError(msg)
        reader.logger = self.logger
        reader.around = {
            SingerMessageType.SCHEMA: self.handle_schema,
            SingerMessageType.RECORD: self.handle_record,
            SingerMessageType.STATE: self.handle_state,
        }

    # -- settings -----------------------------------------------------------------------------
    @classmethod
    @override
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """The SDK's built-in settings, minus those this target would silently ignore."""
        super().append_builtin_config(config_jsonschema)
        for name in cls.IGNORED_BUILTIN_SETTINGS:
            config_jsonschema["properties"].pop(name, None)

    def check_config(self) -> None:
        """Raise one ConfigValidationError listing every setting that cannot work."""
        problems = connection_problems(self.config) + target_problems(self.config)
        if problems:
            msg = "target-coupa settings need attention"
            raise ConfigValidationError(msg, errors=problems)

    @property
    def dry_run(self) -> bool:
        """Resolve and report, write nothing."""
        return bool(self.config.get("dry_run", False))

    def required_scopes(self) -> list[str]:
        """The `scopes` setting, or what writing (and dry-run resolution) needs."""
        return list(self.config.get("scopes") or DEFAULT_SCOPES)

    # -- the run's shared objects ---------------------------------------------------------------
    @cached_property
    def coupa(self) -> CoupaClient:
        """The run's one connection: token, limiter and retry policy shared with the tap code."""
        return CoupaClient(self.config, scopes=self.required_scopes, logger=self.logger)

    @cached_property
    def writer(self) -> InvoiceWriter:
        """Looks up, creates and updates invoices through `coupa`."""
        return InvoiceWriter(
            self.coupa,
            self.logger,
            submit=bool(self.config.get("submit", False)),
            resolver=ReferenceResolver(self.coupa, self.logger),
        )

    @cached_property
    def ledger(self) -> OutcomeLedger:
        """Every record's outcome; the dead-letter file (none in a dry run)."""
        path = None
        if not self.dry_run:
            path = Path(self.config.get("dead_letter_path") or DEFAULT_DEAD_LETTER_PATH)
        return OutcomeLedger(
            path.expanduser() if path else None,
            self.logger,
            secrets=[str(self.config.get("client_secret") or "")],
        )

    @cached_property
    def pool(self) -> WritePool:
        """Batched look-ups and `max_concurrency` writers; holds each STATE until it is due."""
        return WritePool(
            self.writer,
            self.writer.preview if self.dry_run else self.writer.upsert,
            emit_state=self._emit_due_state,
            on_stop=self._log_summary_before_stop,
            logger=self.logger,
            max_concurrency=int(self.config.get("max_concurrency") or DEFAULT_MAX_CONCURRENCY),
        )

    def _log_summary_before_stop(self) -> None:
        """A failure stops the run: say what was done before it (the pool calls this once)."""
        self.ledger.close()
        self.logger.info("Before the run stopped: %s", self.ledger.summary(dry_run=self.dry_run))

    def start_writing(self) -> None:
        """Mint the token with the write scopes before the first record is written.

        A client that lacks a write scope is refused at the token endpoint (`invalid_scope`,
        turned into a message naming the scopes by coupa_api.auth) before anything is written.
        """
        if self._writing_started:
            return
        self._writing_started = True
        mode = (
            "dry run: nothing will be written and no STATE emitted (bookmarks stay put)"
            if self.dry_run
            else f"writing with up to {self.pool.max_concurrency} concurrent writers"
        )
        self.logger.info("target-coupa: %s to %s", mode, self.coupa.base_url)
        self.coupa.auth.bearer_header()

    # -- streams ------------------------------------------------------------------------------
    @cached_property
    def sink_services(self) -> SinkServices:
        """What every sink receives: the ledger, the dry-run flag and the input line."""
        return SinkServices(
            ledger=self.ledger,
            dry_run=self.dry_run,
            take_record=self.take_record,
            unsupported_message=self.unsupported_message,
        )

    @cached_property
    def write_services(self) -> WriteServices:
        """What the invoices sink receives besides: the write pool (started here), the token."""
        shared = {f.name: getattr(self.sink_services, f.name) for f in fields(SinkServices)}
        return WriteServices(**shared, pool=self.pool, start_writing=self.start_writing)

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """`invoices` -> InvoiceSink; lines ignored; anything else refused or skipped.

        Returns the class with the run's services bound (`services=`): singer-sdk's
        `add_sink` only calls what this returns, with `target`, `stream_name`, `schema` and
        `key_properties` (pinned in tests/target/test_target_sdk_pins.py). singer-sdk 0.54
        has no public way to hand a sink more than the target.
        """
        if (writing := SUPPORTED_STREAMS.get(stream_name)) is not None:
            return cast("type[Sink]", partial(writing, services=self.write_services))
        sink = IGNORED_STREAMS.get(stream_name)
        if sink is None and self.config.get("on_unsupported_stream", "error") == "skip":
            sink = SkippedStreamSink
        if sink is not None:
            return cast("type[Sink]", partial(sink, services=self.sink_services))
        message = self.unsupported_message(stream_name)
        raise CoupaError(
            f"{message} Set `on_unsupported_stream: skip` to skip such streams with a warning, "
            "or deselect them in the tap."
        )

    def unsupported_message(self, stream_name: str) -> str:
        """Why `stream_name` is not written, naming the streams that are."""
        supported = ", ".join(f"'{name}'" for name in SUPPORTED_STREAMS)
        return f"target-coupa cannot write stream '{stream_name}'; it writes only {supported}."

    # -- records the SDK cannot take ------------------------------------------------------------
    @property
    def input_line(self) -> int | None:
        """The input line being handled (1-based), when the reader counts lines."""
        number = getattr(self.message_reader, "line_number", None)
        return number if isinstance(number, int) and number > 0 else None

    def take_record(self) -> int | None:
        """A sink's `process_record` has the record: failures are the run's from now on."""
        self._record_taken = True
        return self.input_line

    def handle_record(self, sdk: Handler, message_dict: dict[str, Any]) -> None:
        """Hand the record to singer-sdk (`sdk`), rejecting it alone when the SDK refuses it.

        What singer-sdk raises before a sink's `process_record` (no `stream`, no SCHEMA for
        the stream, a declared key property missing, a stream map that fails, ...) would end
        the run before the good records after it; here it rejects that record (dead letter
        with its input line, exit 3). What is raised once a sink has the record (Coupa
        unreachable, a missing scope) still stops the run.
        """
        line = self.input_line
        stream = message_dict.get("stream")
        record = message_dict.get("record")
        shown = str(stream) if isinstance(stream, str) and stream else "(unknown stream)"
        if reason := self._unusable(message_dict):
            stage, why, kept = reason
            self._reject_message(shown, line, stage, why, kept)
            return
        assert isinstance(stream, str)  # noqa: S101 - checked by _unusable
        assert isinstance(record, dict)  # noqa: S101 - checked by _unusable
        self._record_taken = False
        try:
            sdk(message_dict)
        except (CoupaError, MemoryError):
            raise
        except Exception as exc:
            if self._record_taken:
                raise
            keys = self._key_properties_of(stream)
            stage, why = intake.refusal(exc, stream, record, keys)
            self._reject_message(stream, line, stage, why, record)
            return
        if not self._record_taken:  # a stream map's `__filter__` dropped it
            self.ledger.add(RecordOutcome(Outcome.SKIPPED, stream=stream, line=line))

    def _unusable(self, message_dict: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """(stage, why, what to keep) for a RECORD no sink can take; None when one can try."""
        unreadable = unreadable_reason(message_dict)
        if unreadable is not None:
            text, why = unreadable
            return intake.MESSAGE, f"The input line {why}.", {"line": text}
        record = message_dict.get("record")
        if not isinstance(record, dict):
            shown = "missing" if "record" not in message_dict else type(record).__name__
            why = f"The RECORD message's `record` is {shown}, not a JSON object."
            return intake.MESSAGE, why, {"message": message_dict}
        stream = message_dict.get("stream")
        if not isinstance(stream, str) or not stream:
            why = (
                f"The RECORD message has no `stream` name (got {stream!r}); a tap must name "
                "the stream of every record."
            )
            return intake.MESSAGE, why, record
        refused = self._refused_schemas.get(stream)
        if refused is not None:
            at, problem = refused
            where = f" on line {at}" if at else ""
            why = (
                f"The SCHEMA of stream '{stream}'{where} was refused ({problem}), so its records "
                "cannot be checked or written; fix the tap's SCHEMA message."
            )
            return intake.MESSAGE, why, record
        return None

    def _key_properties_of(self, stream: str) -> list[str] | None:
        """The key properties the stream's SCHEMA declared (None when it has no sink)."""
        if not self.sink_exists(stream):
            return None
        return list(self.get_sink(stream).key_properties or [])

    def _reject_message(
        self, stream: str, line: int | None, stage: str, why: str, kept: dict[str, Any]
    ) -> None:
        where = f" (input line {line})" if line else ""
        self.logger.warning("Rejected a record of %s%s: %s", stream, where, why)
        self.ledger.add(
            RecordOutcome(
                Outcome.REJECTED,
                stream=stream,
                errors=(why,),
                stage=stage,
                record=kept,
                line=line,
            )
        )

    def handle_schema(self, sdk: Handler, message_dict: dict[str, Any]) -> None:
        """Register the SCHEMA (`sdk`), or refuse it with a warning and reject its records.

        A SCHEMA singer-sdk cannot use would end the run with a traceback; here the stream's
        records are rejected until a usable SCHEMA for it arrives. A stream the target does
        not write still stops the run (`on_unsupported_stream`).
        """
        line = self.input_line
        problem = intake.schema_problem(message_dict)
        if problem is None:
            try:
                sdk(message_dict)
            except CoupaError:
                raise
            except Exception as exc:
                problem = f"could not be used by singer-sdk ({type(exc).__name__}: {exc})"
            else:
                self._refused_schemas.pop(str(message_dict["stream"]), None)
                return
        stream = message_dict.get("stream")
        where = f" on input line {line}" if line else ""
        if isinstance(stream, str) and stream:
            self._refused_schemas[stream] = (line, problem)
            self.logger.warning(
                "Refused the SCHEMA of stream '%s'%s: it %s. Its records are rejected until a "
                "usable SCHEMA for it arrives.",
                stream,
                where,
                problem,
            )
        else:
            self.logger.warning(
                "Ignored a SCHEMA message%s: it %s; records that name no SCHEMA are rejected.",
                where,
                problem,
            )

    # -- STATE: as soon as the records before it have their outcome ----------------------------
    def handle_state(self, sdk: Handler, message_dict: dict[str, Any]) -> None:
        """Hand a STATE to the pool, which emits it once every record before it is done.

        singer-sdk's handler (`sdk`, not called) would keep it as its latest STATE and write
        that at its next drain (every 5 minutes, at the end, on SIGTERM), from the reading
        thread and without the pool's lock, even for records still being written: an older
        STATE could follow a newer one. Not calling it leaves the SDK no STATE to write; every
        STATE goes out through `_emit_due_state`.
        """
        if "value" not in message_dict:
            line = self.input_line
            where = f"input line {line}" if line else "a STATE message"
            self.logger.warning(
                "Ignored %s: a STATE message without `value` carries no bookmark; the last "
                "STATE emitted stays the one to resume from.",
                where,
            )
            return
        self.pool.offer_state(message_dict["value"])

    def _emit_due_state(self, state: dict[str, Any]) -> None:
        """The one place a STATE is written: by the pool, its lock held, in input order.

        Each distinct STATE is written once, as singer-sdk writes one (a line of JSON on
        stdout). A dry run writes none: Meltano saves whatever STATE a target emits, and a
        bookmark moved past invoices that were only looked at would make the real run skip
        them.
        """
        if self.dry_run:
            return
        line = json.dumps(state)
        if line == self._last_state_line:
            return
        self._last_state_line = line
        self.logger.debug("Emitting completed target state %s", line)
        sys.stdout.write(f"{line}\n")
        sys.stdout.flush()

    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        """singer-sdk's drains write nothing here: STATE goes out only through the pool.

        The SDK's latest STATE is never set (`handle_state` does not call the SDK's STATE
        handler), so its drains have nothing to write; this no-op keeps it so should a later
        singer-sdk set it some other way. Private: singer-sdk 0.54 has no public hook to turn
        the drain's STATE off (`drain_all` calls this method; meltano/sdk#3040, open, changes
        when it does); pinned in tests/target/test_target_sdk_pins.py.
        """

    # -- the end --------------------------------------------------------------------------------
    @override
    def process_endofpipe(self) -> None:
        """Finish every write, emit the last STATE, log the summary; exit 3 on rejections."""
        if "pool" in self.__dict__:
            self.pool.close()
        super().process_endofpipe()
        ledger = self.ledger
        ledger.close()
        self.logger.info("%s", ledger.summary(dry_run=self.dry_run))
        if ledger.rejected and not self.config.get("allow_failures", False):
            where = (
                f" See {ledger.dead_letter_path} for each record, its HTTP status and Coupa's "
                "messages."
                if ledger.dead_letter_path
                else " The log above gives each record and its reasons."
            )
            msg = (
                f"{ledger.rejected} of {ledger.received} records were rejected.{where} Set "
                "`allow_failures: true` to exit 0 anyway."
            )
            raise RejectedRecordsError(msg)

    def interruption_report(self) -> str:
        """On SIGTERM/SIGINT: the outcome summary so far, the line a completed run logs."""
        ledger = self.ledger
        ledger.close()
        return ledger.summary(dry_run=self.dry_run)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, reporting Coupa errors as sentences instead of tracebacks."""
        command = super().get_singer_command()
        command.params.append(connection_check.scope_check_option(cls))
        return explain_errors(command, cls.logger)
