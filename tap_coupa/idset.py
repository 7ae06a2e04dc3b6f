"""A sorted set of record ids as a short string for STATE: runs, deltas, varints, zlib, base64.

Coupa's ids grow by one per record per table with gaps where records were deleted or never
committed, so runs of consecutive ids are long on real tenants: a run costs about 2-4 bytes
before compression however many ids it holds. The worst case, no two ids consecutive, costs
about one byte per id after compression (tests/tap/test_deletions.py measures it).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Iterator

PREFIX = "r1:"


def _runs(ids: Iterable[int]) -> Iterator[tuple[int, int]]:
    start = prev = None
    for value in ids:
        if start is None or prev is None:
            start = prev = value
        elif value == prev + 1:
            prev = value
        else:
            yield start, prev - start + 1
            start = prev = value
    if start is not None and prev is not None:
        yield start, prev - start + 1


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def encode(ids: Iterable[int]) -> str:
    """`ids` (any order, duplicates ignored, all >= 0) as a compact ASCII string."""
    raw = bytearray()
    end = 0
    for start, length in _runs(sorted(set(ids))):
        _varint(start - end, raw)
        _varint(length, raw)
        end = start + length
    return PREFIX + base64.b64encode(zlib.compress(bytes(raw), 9)).decode()


def decode(text: str) -> list[int]:
    """The sorted ids `encode` packed; ValueError when `text` is not such a string."""
    if not text.startswith(PREFIX):
        msg = "not an id set"
        raise ValueError(msg)
    try:
        raw = zlib.decompress(base64.b64decode(text[len(PREFIX) :], validate=True))
    except (zlib.error, ValueError) as exc:
        msg = f"corrupt id set: {exc}"
        raise ValueError(msg) from None
    numbers: list[int] = []
    value = shift = 0
    for byte in raw:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            numbers.append(value)
            value = shift = 0
    if shift or len(numbers) % 2:
        msg = "truncated id set"
        raise ValueError(msg)
    ids: list[int] = []
    end = 0
    for gap, length in zip(numbers[::2], numbers[1::2], strict=True):
        start = end + gap
        ids.extend(range(start, start + length))
        end = start + length
    return ids
