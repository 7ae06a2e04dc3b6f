"""Singer messages to stdout, buffered: a write and a flush per message cost the tap dearly.

singer-sdk's msgspec writer writes and flushes stdout for every message: a system call per
record (26 us/record of system time measured), and with worker threads each call releases and
re-takes the GIL. Here messages collect in one buffer written in large chunks. Buffering is
safe as long as a STATE never reaches the consumer before the records it covers and nobody
waits long: the buffer goes out, flushed, at every STATE, once a second while records flow,
when it reaches `CHUNK_BYTES`, when a stream ends (`flush_writer`) and at exit.

Messages are encoded with orjson, not the SDK's msgspec encoder: on Coupa's records (8 KB of
mostly strings) orjson takes a quarter to a half less CPU (inside a run, 34 against 46 us of
thread CPU per invoice message; 11-15 against 27-33 us in isolation), and the encoder was the
largest single cost per record after parsing the page. The output is
the same JSON: the SDK's encoder still writes what orjson does not take (Decimal NaN, integers
beyond 64 bits, non-string keys, bytes, sets, timedeltas, times with a zone), Decimals are
written as numbers as the SDK writes them, and UTC as `Z`. The one difference in bytes is a
float's positive exponent (`1e+300` where msgspec writes `1e300`), the same number.
"""

from __future__ import annotations

import atexit
import sys
import time
import weakref
from decimal import Decimal

import orjson
from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import Message, SingerMessageType
from typing_extensions import override

#: A consumer (target, Meltano) sees a record at most this many seconds late.
FLUSH_SECONDS = 1.0
#: Write to stdout once this much has collected.
CHUNK_BYTES = 256 * 1024
#: msgspec (the SDK's encoder) writes a UTC datetime with `Z`.
_ORJSON_OPTIONS = orjson.OPT_UTC_Z


def _decimal_as_number(value: object) -> orjson.Fragment:
    """A finite Decimal as the SDK writes it (`decimal_format="number"`); others are refused."""
    if type(value) is Decimal and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(type(value).__name__)


def encode_into(message: dict[str, object], buffer: bytearray) -> None:
    """Append one message's JSON: orjson, or the SDK's encoder for what orjson refuses."""
    try:
        buffer += orjson.dumps(message, default=_decimal_as_number, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError included; nothing was appended
        encoder.encode_into(message, buffer, -1)


class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec serialisation; stdout written in chunks and flushed at STATE, each second, exit."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._last_flush = time.monotonic()
        _WRITERS.add(self)

    @override
    def write_message(self, message: Message) -> None:
        """Buffer one message; write out at a STATE, a full chunk or a second's delay."""
        pending = self._pending
        encode_into(message.to_dict(), pending)
        pending += b"\n"
        if (
            message.type == SingerMessageType.STATE
            or len(self._pending) >= CHUNK_BYTES
            or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """Write what is buffered and flush stdout."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()
        self._last_flush = time.monotonic()


_WRITERS: weakref.WeakSet[BufferedMsgSpecWriter] = weakref.WeakSet()


@atexit.register
def flush_all() -> None:
    """Write out every writer's buffer (at exit)."""
    for writer in list(_WRITERS):
        writer.flush()


def flush_writer(writer: object) -> None:
    """Write out one plugin's buffer; `writer` may wrap ours (`.inner`, e.g. a counting writer)."""
    for _ in range(4):
        if isinstance(writer, BufferedMsgSpecWriter):
            writer.flush()
            return
        writer = getattr(writer, "inner", None)
