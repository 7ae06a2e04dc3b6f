"""Singer messages to stdout, buffered: a write and a flush per message cost the tap dearly.

singer-sdk's msgspec writer writes and flushes stdout for every message: a system call per
record (26 us/record of system time measured), and with worker threads each call releases and
re-takes the GIL. Here messages collect in one buffer written in large chunks. Buffering is
safe as long as a STATE never reaches the consumer before the records it covers and nobody
waits long: the buffer goes out, flushed, at every STATE, once a second while records flow,
when it reaches `CHUNK_BYTES`, when a stream ends (`flush_writer`) and at exit.
"""

from __future__ import annotations

import atexit
import sys
import time
import weakref

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import Message, SingerMessageType
from typing_extensions import override

#: A consumer (target, Meltano) sees a record at most this many seconds late.
FLUSH_SECONDS = 1.0
#: Write to stdout once this much has collected.
CHUNK_BYTES = 256 * 1024


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
        # The SDK's encoder, appending to the buffer (offset -1): the bytes of
        # `format_message`, without its intermediate buffer and copy (8 KB per invoice).
        pending = self._pending
        encoder.encode_into(message.to_dict(), pending, -1)
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
