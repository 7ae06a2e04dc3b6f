"""A sorted set of record ids as a short string for STATE: runs, deltas, varints, zlib, base64.

Coupa's ids grow by one per record per table with gaps where records were deleted or never
committed, so runs of consecutive ids are long on real tenants: a run costs about 2-4 bytes
before compression however many ids it holds. The worst case, no two ids consecutive, costs
about one byte per id after compression (tests/tap/test_deletions.py measures it).

Decoding is bounded: STATE is input the tap does not control (hand-edited, truncated by a
state backend, written by another tool), and five bytes of varints can claim a billion ids.
`decode` counts the ids before it builds any and refuses more than `limit`, and never
inflates more bytes than `limit` ids can take.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable, Iterator

PREFIX = "r1:"
#: The most ids `decode` builds unless told otherwise (tap_coupa.deletions.MAX_TRACKED_IDS).
MAX_IDS = 2_000_000
#: A varint of a 64-bit id is at most 10 bytes; a run is two varints.
_RUN_BYTES = 20
#: Ids are database keys: anything from 2**63 up is not one.
_ID_CEILING = 2**63


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


def _inflate(text: str, limit: int) -> bytes:
    """The varint bytes of `text`, never more than `limit` ids can take."""
    most = _RUN_BYTES * limit + 64
    body = text[len(PREFIX) :]
    if len(body) > 2 * most:  # compressed data is never much larger than its input
        msg = f"an id set of {len(body)} characters is larger than {limit} ids can take"
        raise ValueError(msg)
    try:
        packed = base64.b64decode(body, validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, most)
    except (zlib.error, binascii.Error, ValueError) as exc:
        msg = f"corrupt id set: {exc}"
        raise ValueError(msg) from None
    if inflater.unconsumed_tail:
        msg = f"an id set that inflates beyond {most} bytes holds more than {limit} ids"
        raise ValueError(msg)
    if not inflater.eof:
        msg = "truncated id set: its compressed stream ends early"
        raise ValueError(msg)
    return raw


def decode(text: str, *, limit: int = MAX_IDS) -> list[int]:
    """The sorted ids `encode` packed.

    Raises:
        ValueError: `text` is not such a string, or claims more than `limit` ids (counted run
            by run before any id is built).
    """
    if not text.startswith(PREFIX):
        msg = "not an id set"
        raise ValueError(msg)
    runs: list[tuple[int, int]] = []
    claimed = 0
    gap: int | None = None
    value = shift = 0
    for byte in _inflate(text, limit):
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte & 0x80:
            continue
        if gap is None:
            gap = value
        else:
            if value == 0:
                msg = "corrupt id set: a run of no ids"
                raise ValueError(msg)
            claimed += value
            if claimed > limit:
                msg = f"the id set claims more than the {limit} ids the tap tracks"
                raise ValueError(msg)
            runs.append((gap, value))
            gap = None
        value = shift = 0
    if shift or gap is not None:
        msg = "truncated id set"
        raise ValueError(msg)
    ids: list[int] = []
    end = 0
    for gap_, length in runs:
        start = end + gap_
        end = start + length
        if end > _ID_CEILING:
            msg = f"the id set holds an id above {_ID_CEILING}, which no record has"
            raise ValueError(msg)
        ids.extend(range(start, end))
    return ids
