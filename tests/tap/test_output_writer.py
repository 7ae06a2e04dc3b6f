"""tap_coupa.output: the buffered writer writes the bytes singer-sdk's msgspec writer would."""

from __future__ import annotations

import datetime as dt
import io
import sys
from decimal import Decimal

import pytest
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

from tap_coupa.output import BufferedMsgSpecWriter

MESSAGES = [
    SchemaMessage(
        "invoices", {"type": "object", "properties": {"id": {"type": "integer"}}}, ["id"]
    ),
    RecordMessage(
        "invoices",
        {
            "id": 1,
            "invoice-number": "Zoë-№1 👍",
            "total": Decimal("12.50"),
            "paid-at": dt.datetime(2024, 11, 3, 9, 30, tzinfo=dt.UTC),
            "lines": [{"price": "3.10", "n": None}, {"price": 1.5}],
        },
        version=3,
        time_extracted=dt.datetime(2026, 12, 3, 15, 0, 1, 123456, tzinfo=dt.UTC),
    ),
    RecordMessage("invoices", {"id": 2}),
    StateMessage(
        {"bookmarks": {"invoices": {"replication_key_value": "2024-11-03T09:30:00+00:00"}}}
    ),
]


def test_each_message_is_the_bytes_of_the_sdks_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="utf-8"))
    writer = BufferedMsgSpecWriter()
    sdk = MsgSpecWriter()
    expected = b"".join(bytes(sdk.format_message(m)) for m in MESSAGES)
    for message in MESSAGES:
        writer.write_message(message)
    writer.flush()
    assert out.getvalue() == expected
