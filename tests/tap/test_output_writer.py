"""tap_coupa.output: the buffered writer writes the bytes singer-sdk's msgspec writer would."""

from __future__ import annotations

import datetime as dt
import io
import json
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


#: What orjson refuses and the SDK's encoder writes: the writer falls back to the SDK's bytes.
FALLBACKS = [
    {"id": 2**64},  # beyond 64 bits
    {"id": -(2**63) - 1},
    {"total": Decimal("NaN")},
    {"total": Decimal("Infinity")},
    {"at": dt.time(9, 30, tzinfo=dt.UTC)},
    {"by-id": {1: "a"}},  # a non-string key
    {"blob": b"\x00\x01"},
    {"tags": frozenset({"a"})},
    {"took": dt.timedelta(days=1)},
]


@pytest.mark.parametrize("record", FALLBACKS, ids=lambda r: next(iter(r)))
def test_what_orjson_refuses_is_the_sdks_bytes(
    record: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="utf-8"))
    message = RecordMessage("invoices", record)
    writer = BufferedMsgSpecWriter()
    writer.write_message(message)
    writer.flush()
    assert out.getvalue() == bytes(MsgSpecWriter().format_message(message))


def test_a_float_with_a_positive_exponent_is_the_same_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one difference in bytes: orjson writes `1e+300` where msgspec writes `1e300`."""
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="utf-8"))
    values = {"big": 1e300, "small": 1.5e-7, "neg": -2.5e22, "nan": float("nan")}
    message = RecordMessage("invoices", values)
    writer = BufferedMsgSpecWriter()
    writer.write_message(message)
    writer.flush()
    sdk = bytes(MsgSpecWriter().format_message(message))
    assert json.loads(out.getvalue()) == json.loads(sdk)
    assert json.loads(out.getvalue())["record"] == {**values, "nan": None}
