"""Reading Singer input that may be damaged, without stopping at the damage.

singer-sdk stops the run with a traceback at a line that is not UTF-8 or not JSON; the STATE
before it is already out, so every rerun stops at the same line. Here undecodable bytes become
escaped text (`surrogateescape`), which the sink rejects as unreadable text, and a line that is
not a JSON message becomes a RECORD with no record, which the target dead-letters; the run goes
on with the next line. Blank lines (a trailing newline too many, a file joined with an empty
line) carry nothing and are skipped. The reader counts every physical line, so a rejection can
name the input line it came from (`line_number`, 1-based, as `sed -n Np` shows it).

It is also where the target takes its messages, through singer-sdk's public reader API only:
singer-sdk hands `process_lines` one handler per message type (its own, private, methods), and
the target's `around` handlers receive each message with singer-sdk's handler for its type, to
call or not. A message of a type no Singer target reads is ignored with a warning.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import IO, Any

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.json import deserialize_json
from typing_extensions import override

#: Key of the pseudo-message that stands for an unreadable input line.
UNREADABLE = "_unreadable_line"
#: Type of the pseudo-message that stands for a message of a type nothing reads.
IGNORED = "_ignored_message"

#: singer-sdk's handler of one message type.
Handler = Callable[[dict[str, Any]], None]
#: A target's handler of one message type: given singer-sdk's handler, then the message.
Around = Callable[[Handler, dict[str, Any]], None]


class TolerantReader(SingerReader):
    """singer-sdk's reader, turning undecodable and unparseable lines into rejections."""

    def __init__(self) -> None:
        super().__init__()
        #: The input line being handled (1-based); 0 before the first.
        self.line_number = 0
        #: Where warnings about ignored messages go (the target sets its own logger).
        self.logger = logging.getLogger("target-coupa")
        #: The target's handlers, by message type, around singer-sdk's (the target sets them).
        self.around: dict[str, Around] = {}
        #: The message types `process_lines` was given handlers for (None outside it).
        self.handled: frozenset[str] | None = None

    @override
    def process_lines(self, file_input: IO[str] | None, callbacks: dict[str, Handler]) -> Any:
        """Read `file_input` (default: standard input) with undecodable bytes escaped.

        Each message goes to the target's `around` handler for its type (given singer-sdk's
        handler for that type), else to singer-sdk's; a message of another type is ignored.
        """
        stream = file_input if file_input is not None else sys.stdin
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
        routed: dict[str, Handler] = {
            kind: partial(self.around[kind], handler) if kind in self.around else handler
            for kind, handler in callbacks.items()
        }
        routed[IGNORED] = self._ignore
        self.handled = frozenset(callbacks)
        try:
            return super().process_lines(self._numbered(stream), routed)  # type: ignore[arg-type]
        finally:
            self.handled = None

    def _numbered(self, lines: Iterable[str]) -> Iterator[str]:
        """The lines that carry something, counting every line (blank ones too)."""
        for number, line in enumerate(lines, start=1):
            self.line_number = number
            if line.strip():
                yield line

    @override
    def deserialize_json(self, line: str) -> dict[str, Any]:
        """The message on `line`, or a pseudo-message saying why it cannot be read or used."""
        try:
            message = deserialize_json(line)
        except ValueError as exc:
            return _unreadable(line, f"is not valid JSON ({exc})")
        if not isinstance(message, dict) or "type" not in message:
            return _unreadable(line, "is not a Singer message (a JSON object with a `type`)")
        kind = message["type"]
        if self.handled is not None and not (isinstance(kind, str) and kind in self.handled):
            return {"type": IGNORED, "ignored_type": kind}
        return message

    def _ignore(self, message_dict: dict[str, Any]) -> None:
        """Ignore a message of a type no Singer target reads, with a warning naming its line.

        singer-sdk stops the run with a traceback; such a message carries no record the target
        could write, so nothing is lost by going on.
        """
        self.logger.warning(
            "Ignored input line %d: a Singer message of unknown type %s (target-coupa reads "
            "SCHEMA, RECORD, STATE, ACTIVATE_VERSION and BATCH messages).",
            self.line_number,
            dumps_escaped(message_dict.get("ignored_type"))[:100],
        )


def _unreadable(line: str, why: str) -> dict[str, Any]:
    shown = line.strip()
    shown = shown if len(shown) <= 2000 else shown[:2000] + "..."
    return {"type": "RECORD", "stream": None, "record": None, UNREADABLE: (shown, why)}


def unreadable_reason(message: dict[str, Any]) -> tuple[str, str] | None:
    """(the line, why) for an unreadable pseudo-message; None for a real one."""
    value = message.get(UNREADABLE)
    if isinstance(value, tuple):
        return value[0], value[1]
    return None


def dumps_escaped(value: Any) -> str:
    """JSON for logs of damaged input (never raises on odd text)."""
    return json.dumps(value, default=str, ensure_ascii=True)
