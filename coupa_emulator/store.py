"""Tables of records: a compact index eagerly, records lazily, serialized JSON cached.

A table keeps sorted ids and (updated-at, id) pairs so that keyset pages and updated-at
windows are a bisect away. A record is a pure function of (seed, resource, id, stamps), so
only what cannot be regenerated is kept for good: `overrides`, the records a write or a
scripted mutation changed. Everything else is rebuilt on demand; the serialized JSON of
recently served records sits in one LRU cache bounded in bytes, so memory stays flat however
many records are served.
"""

from __future__ import annotations

import bisect
import random
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from coupa_emulator.builders import build_record
from coupa_emulator.generator import (
    WINDOW_START,
    Generator,
    Record,
    make_index,
)
from coupa_emulator.resources import RESOURCES, ResourceSpec, count_for
from coupa_emulator.timefmt import fmt, now_ts, parse_instant

CACHE_BYTES = 128 * 1024**2  # serialized records kept, all tables together (~24,000 invoices)
LINE_ID_BASE = 10_000_000

# Natural keys a reference may be given by in writes (reference §10.2), id always allowed.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "suppliers": ("number", "name"),
    "currencies": ("code",),
    "accounts": ("code",),
    "uoms": ("code",),
    "payment_terms": ("code",),
    "account_types": ("name",),
    "addresses": ("location-code", "name"),
    "users": ("login", "email"),
    "commodities": ("name",),
    "departments": ("name",),
}


class ByteCache:
    """Serialized records by (resource, id), least recently used evicted past `budget` bytes."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[str, int]) -> bytes | None:
        """The cached bytes, marked as recently used; None on a miss."""
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, int], data: bytes) -> None:
        """Remember `data`, evicting the least recently used entries past the budget."""
        self.pop(key)
        self._items[key] = data
        self.size += len(data)
        while self.size > self.budget and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self.size -= len(old)

    def pop(self, key: tuple[str, int]) -> None:
        """Forget one entry (its record changed)."""
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old)


class Table:
    """One resource's records plus the indexes that make common queries cheap."""

    def __init__(self, spec: ResourceSpec, store: Store, n: int, seed: int) -> None:
        index = make_index(seed, spec, n)
        self.spec = spec
        self.store = store
        self.ids: list[int] = index.ids
        self.created: dict[int, int] = dict(zip(index.ids, index.created, strict=True))
        self.updated: dict[int, int] = dict(zip(index.ids, index.updated, strict=True))
        self.by_updated: list[tuple[int, int]] = sorted(zip(index.updated, index.ids, strict=True))
        self.overrides: dict[int, Record] = {}
        self.cache = store.cache
        self.next_line_id = LINE_ID_BASE
        #: The highest id deleted so far: Coupa never hands a deleted record's id out again.
        self.deleted_top = 0
        self._natural: dict[str, dict[str, set[int]]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, rid: object) -> bool:
        return rid in self.created

    # ---- reading -------------------------------------------------------------------------
    def get_bytes(self, rid: int) -> bytes:
        """Serialized JSON of the current record (cached: full pages then cost a join)."""
        key = (self.spec.name, rid)
        found = self.cache.get(key)
        if found is not None:
            return found
        record = self.overrides.get(rid)
        if record is None:
            record = self.store.record(self.spec, rid, self.created[rid], self.updated[rid])
        # A tight copy: orjson's result keeps its growth buffer, about twice the payload.
        data = bytes(memoryview(orjson.dumps(record)))
        self.cache.put(key, data)
        return data

    def get(self, rid: int) -> Record:
        """A private copy of the record, safe to reshape."""
        record: Record = orjson.loads(self.get_bytes(rid))
        return record

    def iter_records(self, ids: Iterable[int]) -> Iterator[tuple[int, Record]]:
        """(id, record copy) pairs, built lazily."""
        for rid in ids:
            yield rid, self.get(rid)

    # ---- writing -------------------------------------------------------------------------
    def new_id(self, rng: random.Random, above: int = 0) -> int:
        """Above the current max (and `above`), with a gap (Coupa's ids are not contiguous)."""
        top = max(self.ids[-1] if self.ids else 0, self.deleted_top, above)
        return top + rng.randint(1, 9)

    def new_line_id(self) -> int:
        """A fresh line id from a range generated lines never use."""
        self.next_line_id += 3
        return self.next_line_id

    def put(self, record: Record) -> None:
        """Store `record` as the truth for its id, inserting it if new; keep indexes in step."""
        rid = int(record["id"])
        stamp = now_ts()
        if self.spec.timestamps:
            parsed = parse_instant(str(record.get("updated-at")))
            stamp = int(parsed) if parsed is not None else stamp
        if rid not in self.created:
            bisect.insort(self.ids, rid)
            created = parse_instant(str(record.get("created-at"))) if self.spec.timestamps else None
            self.created[rid] = int(created) if created is not None else stamp
        else:
            old = (self.updated[rid], rid)
            pos = bisect.bisect_left(self.by_updated, old)
            if pos < len(self.by_updated) and self.by_updated[pos] == old:
                del self.by_updated[pos]
        self.updated[rid] = stamp
        bisect.insort(self.by_updated, (stamp, rid))
        self.overrides[rid] = record
        self.cache.pop((self.spec.name, rid))
        self._natural.clear()

    def delete(self, rid: int) -> bool:
        """Remove a record as Coupa's DELETE does; False when there is none with that id."""
        if rid not in self.created:
            return False
        self.ids.pop(bisect.bisect_left(self.ids, rid))
        old = (self.updated.pop(rid), rid)
        pos = bisect.bisect_left(self.by_updated, old)
        if pos < len(self.by_updated) and self.by_updated[pos] == old:
            del self.by_updated[pos]
        del self.created[rid]
        self.deleted_top = max(self.deleted_top, rid)
        self.overrides.pop(rid, None)
        self.cache.pop((self.spec.name, rid))
        self._natural.clear()
        return True

    def touch(self, rid: int, stamp: int) -> None:
        """Bump updated-at (a scripted mutation: someone edited the record in Coupa)."""
        record = self.get(rid)
        record["updated-at"] = fmt(stamp)
        self.put(record)

    # ---- natural-key lookups for writes ----------------------------------------------------
    def lookup(self, key: str, value: str) -> set[int]:
        """Ids whose natural key `key` equals `value` (index built on first use)."""
        if key == "id":
            try:
                rid = int(value)
            except ValueError:
                return set()
            return {rid} if rid in self else set()
        index = self._natural.get(key)
        if index is None:
            index = {}
            gen = self.store.generator
            for rid in self.ids:
                rec = self.overrides.get(rid) or gen.core(self.spec.name, rid)
                val = rec.get(key)
                if val is not None:
                    index.setdefault(str(val), set()).add(rid)
            self._natural[key] = index
        return set(index.get(value, set()))


class Store:
    """Every table of one tenant; rebuilt by reset."""

    def __init__(self, seed: int, scale: int, counts: dict[str, int] | None, profile: str) -> None:
        self.seed = seed
        self.profile = profile
        self.rng = random.Random(f"{seed}:writes")
        self.cache = ByteCache()
        # Each table's ids come from its own random generator, and references are picked only
        # once every table has its ids (the Generator below), so the order does not matter.
        self.tables: dict[str, Table] = {
            name: Table(spec, self, (counts or {}).get(name, count_for(spec, scale)), seed)
            for name, spec in RESOURCES.items()
        }
        self.generator = Generator(
            seed, profile, {name: tuple(t.ids) for name, t in self.tables.items()}
        )
        self._samples: dict[str, list[Record]] = {}

    def record(self, spec: ResourceSpec, rid: int, created: int, updated: int) -> Record:
        """A freshly generated record of `spec` (what the table holds unless a write changed it)."""
        return build_record(self.generator, spec, rid, created, updated)

    def table(self, name: str) -> Table:
        """The table of one resource."""
        return self.tables[name]

    def samples(self, name: str) -> list[Record]:
        """A few records of the resource's full shape, even when the table is empty."""
        found = self._samples.get(name)
        if found is None:
            spec = RESOURCES[name]
            found = [self.record(spec, 10**9 + k, WINDOW_START, WINDOW_START) for k in range(4)]
            self._samples[name] = found
        return found

    def all_records(self, name: str) -> list[Any]:
        """Every record of a resource, id ascending (ground truth for tests)."""
        table = self.tables[name]
        return [table.get(rid) for rid in table.ids]
