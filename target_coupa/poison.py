r"""Records no write could ever carry: text that is not Unicode, numbers that are not finite.

A string read from the input may hold a lone surrogate (a JSON `\ud800` escape) or, when the
input bytes were not UTF-8, the surrogates that stand in for those bytes (`surrogateescape`).
Neither can be encoded for Coupa nor written to a UTF-8 file. Such a record is rejected on its
own (and dead-lettered with the bad text escaped) instead of stopping the run at the same record
on every rerun.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

#: Surrogates that `surrogateescape` uses for undecodable input bytes 0x80-0xFF.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return True


def problem_of(value: Any, path: str = "") -> str | None:  # noqa: PLR0911 - one per kind
    """Why `value` (a record) cannot be written, naming where; None when it can."""
    if isinstance(value, str):
        if not _encodable(value):
            return (
                f"the text at {path or 'the record'} is not valid Unicode (a lone surrogate, "
                "or input bytes that are not UTF-8), so it cannot be sent to Coupa; fix the "
                "source data (the dead-letter file shows it escaped)"
            )
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}/{escape(str(key))}" if path else escape(str(key))
            if isinstance(key, str) and not _encodable(key):
                return problem_of(key, where)
            if found := problem_of(item, where):
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found := problem_of(item, f"{path}/{index}" if path else str(index)):
                return found
        return None
    if not _finite(value):
        return f"the number at {path or 'the record'} is {value}, which JSON and Coupa cannot hold"
    return None


def escape(text: str) -> str:
    r"""`text` with what cannot be UTF-8 shown as `\xNN` (an input byte) or `\uXXXX`."""
    if _encodable(text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if code in _ESCAPED_BYTES:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def escaped(value: Any) -> Any:
    """A copy of `value` that any UTF-8 JSON writer can write (bad text escaped, NaN as text)."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {escape(str(k)): escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escaped(v) for v in value]
    if not _finite(value):
        return str(value)
    return value
