"""What singer-sdk refuses before a record reaches a sink, said as one sentence per record.

singer-sdk checks each SCHEMA and RECORD message before the sink sees the record (a `stream`,
a SCHEMA before the first RECORD, every declared key property present, a stream map that
applies) and raises on the first failure, ending the run with a traceback before the good
records after it are written. The target instead rejects that one record (dead letter, exit 3)
with a sentence from here, and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from singer_sdk.exceptions import (
    InvalidInputLine,
    MappingError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)

#: Dead-letter stages of these rejections.
MESSAGE, KEY_PROPERTY, STREAM_MAP, SDK = "message", "key", "stream map", "singer-sdk"


def schema_problem(message: Mapping[str, Any]) -> str | None:
    """Why a SCHEMA message cannot be used, before singer-sdk reads it; None when it can."""
    stream = message.get("stream")
    if not isinstance(stream, str) or not stream:
        return "has no `stream` name (a non-empty string)"
    schema = message.get("schema")
    if not isinstance(schema, Mapping):
        return "has no `schema` object"
    if not isinstance(schema.get("properties"), Mapping):
        return "has a `schema` without a `properties` object"
    keys = message.get("key_properties")
    if keys is not None and (
        not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys)
    ):
        return f"has `key_properties` {keys!r}, which is not a list of property names"
    return None


def missing_keys(record: Mapping[str, Any], key_properties: Sequence[str] | None) -> list[str]:
    """The declared key properties `record` lacks."""
    return [key for key in key_properties or () if key not in record]


def refusal(
    exc: Exception, stream: str, record: Mapping[str, Any], key_properties: Sequence[str] | None
) -> tuple[str, str]:
    """(stage, sentence) for what singer-sdk raised on a RECORD of `stream`."""
    if isinstance(exc, MissingKeyPropertiesError):
        missing = missing_keys(record, key_properties)
        names = ", ".join(f"`{k}`" for k in missing) or "one of them"
        declared = ", ".join(f"`{k}`" for k in key_properties or ())
        return KEY_PROPERTY, (
            f"The record lacks {names}, declared in its stream's SCHEMA as a key property "
            f"(key_properties: {declared}); singer-sdk requires every record to carry its "
            "key properties. Fix the tap's record (or the SCHEMA's key_properties)."
        )
    if isinstance(exc, RecordsWithoutSchemaException):
        return MESSAGE, (
            f"The RECORD of stream '{stream}' came before any SCHEMA message for that stream; "
            "a tap must send a stream's SCHEMA before its records."
        )
    if isinstance(exc, MappingError):
        return STREAM_MAP, f"The stream map (`stream_maps`) could not be applied: {exc}"
    if isinstance(exc, InvalidInputLine):
        return MESSAGE, f"The RECORD message is not a valid Singer message: {exc}"
    return SDK, (
        f"singer-sdk refused the record before the target could write it "
        f"({type(exc).__name__}: {exc})."
    )
