"""Coupa's query language: filters, paging, ordering, `fields` and `return_object`.

Conditions on `id`, `updated-at` and `created-at` are answered from the table's index
(bisect, dict lookups) without building records; anything else loads records lazily and
stops as soon as the page is full, unless the order itself needs every match.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from coupa_emulator.generator import Record
from coupa_emulator.store import Table
from coupa_emulator.timefmt import EMITTED, parse_instant

MAX_LIMIT = 50
OPS = frozenset(
    {"gt", "gt_or_eq", "lt", "lt_or_eq", "not_eq", "in", "not_in", "contains", "starts_with",
     "ends_with", "blank"}
)  # fmt: skip
# Parameters that are not attribute filters (`filter` = saved API filter, `show_deleted_lines`
# on purchase orders; both accepted and ignored).
RESERVED = frozenset(
    {
        "limit",
        "offset",
        "order_by",
        "dir",
        "fields",
        "return_object",
        "filter",
        "show_deleted_lines",
    }
)
INDEXED = ("id", "updated-at", "created-at")
_DECIMAL = re.compile(r"-?\d+\.\d+")  # fullmatch: `$` accepts "\n"
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_TEXT_OPS = frozenset({"contains", "starts_with", "ends_with"})

# Schema nodes: a dict of child nodes, or a leaf kind string.
Schema = dict[str, Any]
ANY = "any"  # a reference that was null in every sample: accept any sub-path


class QueryError(ValueError):
    """An invalid query; the message is shown to the client in a 400 errors body."""


def norm(name: str) -> str:
    """Coupa accepts hyphenated and underscored attribute names alike."""
    return name.strip().replace("_", "-")


def _kind(value: Any) -> str:  # noqa: PLR0911 - one per kind
    if value is None:
        return ANY
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        if EMITTED.fullmatch(value):
            return "datetime"
        if _DECIMAL.fullmatch(value):
            return "decimal"
        return "string"
    return ANY


def _merge(node: Any, value: Any) -> Any:
    if isinstance(value, list):
        for item in value:
            node = _merge(node, item)
        return node if node is not None else ANY
    if isinstance(value, dict):
        out: Schema = node if isinstance(node, dict) else {}
        for key, child in value.items():
            out[key] = _merge(out.get(key), child)
        return out
    kind = _kind(value)
    if node is None or node == ANY:
        return kind
    return node


def build_schema(samples: Iterable[Record]) -> Schema:
    """The attribute tree of a resource, from a few full sample records."""
    schema: Schema = {}
    for sample in samples:
        schema = _merge(schema, sample)
    return schema


@dataclass
class Condition:
    """One `attr[...][op]=value` term; terms are ANDed."""

    path: list[str]
    op: str
    raw: str
    kind: str
    values: list[Any] = field(default_factory=list)

    def matches(self, record: Record) -> bool:
        """True when any value at the path (lines fan out) satisfies the condition."""
        found: list[Any] = []
        _walk(record, self.path, 0, found)
        if not found:
            found = [None]
        return any(self.test(v) for v in found)

    def test(self, value: Any) -> bool:  # noqa: PLR0911, PLR0912 - one branch per operator
        """Compare one stored value (SQL semantics: NULL matches only [blank])."""
        if self.op == "blank":
            return bool((value is None or value == "") == self.values[0])
        if value is None:
            return False  # SQL: NULL compares to nothing, not even not_eq
        if isinstance(value, dict):
            value = value.get("id")
        have = _coerce(value, self.kind)
        if have is None:
            return False
        op, vals = self.op, self.values
        if op == "eq":
            return bool(have == vals[0])
        if op == "not_eq":
            return bool(have != vals[0])
        if op == "in":
            return have in vals
        if op == "not_in":
            return have not in vals
        if op in _TEXT_OPS:
            text = str(value)
            if op == "contains":
                return vals[0] in text
            if op == "starts_with":
                return text.startswith(vals[0])
            return text.endswith(vals[0])
        try:
            if op == "gt":
                return bool(have > vals[0])
            if op == "gt_or_eq":
                return bool(have >= vals[0])
            if op == "lt":
                return bool(have < vals[0])
            return bool(have <= vals[0])
        except TypeError:
            return False


def _walk(value: Any, path: list[str], i: int, out: list[Any]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, path, i, out)
        return
    if i == len(path):
        out.append(value)
        return
    if isinstance(value, dict):
        _walk(value.get(path[i]), path, i + 1, out)
    else:
        out.append(None)


def _coerce(value: Any, kind: str) -> Any:
    """A stored value in the comparable form of its kind (None if it has no such form)."""
    if kind == "datetime":
        if isinstance(value, int | float):
            return float(value)  # an index instant
        return parse_instant(value) if isinstance(value, str) else None
    if kind in {"decimal", "number"}:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value if isinstance(value, str) else str(value)


def _parse_value(raw: str, kind: str, name: str) -> Any:
    if kind == "datetime":
        instant = parse_instant(raw)
        if instant is None:
            raise QueryError(
                f"'{raw}' is not a valid datetime for {name} (use ISO 8601 with an offset, "
                "URL-encoding '+' as %2B)"
            )
        return instant
    if kind in {"decimal", "number"}:
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            raise QueryError(f"'{raw}' is not a number for {name}") from None
    if kind == "bool":
        low = raw.strip().lower()
        if low not in {"true", "false"}:
            raise QueryError(f"'{raw}' is not true or false for {name}")
        return low == "true"
    return raw


def resolve_path(schema: Schema, names: list[str]) -> tuple[list[str], str]:
    """Map a query attribute path to record keys and the leaf kind; unknown -> QueryError."""
    path = [norm(n) for n in names]
    head = path[0]
    if head not in schema:
        if head.endswith("-id") and isinstance(schema.get(head[:-3]), dict | str):
            path = [head[:-3], "id", *path[1:]]  # supplier_id=4 shortcut
        elif isinstance(schema.get("custom-fields"), dict) and head in schema["custom-fields"]:
            path = ["custom-fields", *path]
        else:
            raise QueryError(f"Unknown attribute '{'.'.join(names)}'")
    node: Any = schema
    for i, key in enumerate(path):
        if node == ANY:
            return path, ANY
        if not isinstance(node, dict) or key not in node:
            raise QueryError(f"Unknown attribute '{'.'.join(path[: i + 1])}'")
        node = node[key]
    if isinstance(node, dict):
        if "id" in node:
            return path, "number"  # an association compared by its id
        raise QueryError(f"Attribute '{'.'.join(path)}' is an object; name one of its fields")
    return path, str(node)


def parse_condition(key: str, raw: str, schema: Schema) -> Condition:
    """Parse one `attr[...][op]=value` parameter against the resource's schema."""
    match = _KEY.fullmatch(key)
    if not match:
        raise QueryError(f"Malformed query parameter '{key}'")
    names = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
    op = "eq"
    if len(names) > 1 and names[-1] in OPS:
        op = names.pop()
    path, kind = resolve_path(schema, names)
    label = ".".join(path)
    if op == "blank":
        return Condition(path, op, raw, kind, [_parse_value(raw, "bool", label + "[blank]")])
    if op in _TEXT_OPS:
        if kind == "datetime":
            raise QueryError(f"[{op}] cannot be used on the datetime attribute {label}")
        return Condition(path, op, raw, kind, [raw])
    if op in {"in", "not_in"}:
        parts = raw.split(",")
        return Condition(path, op, raw, kind, [_parse_value(p, kind, label) for p in parts])
    return Condition(path, op, raw, kind, [_parse_value(raw, kind, label)])


@dataclass
class Query:
    """A parsed GET: conditions plus paging, ordering and shaping."""

    conditions: list[Condition]
    limit: int = MAX_LIMIT
    offset: int = 0
    order_by: list[str] | None = None
    order_kind: str = "number"
    desc: bool = False
    fields: list[Any] | None = None
    return_object: str | None = None

    @property
    def shaped(self) -> bool:
        """Whether the cached full-record JSON can be served as is."""
        return self.fields is not None or self.return_object is not None


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer, got '{raw}'") from None
    if value < 0:
        raise QueryError(f"{name} must not be negative, got {value}")
    return value


def parse_shaping(params: Iterable[tuple[str, str]]) -> tuple[list[Any] | None, str | None]:
    """`fields` (URL-encoded JSON array) and `return_object`, for GET and writes alike."""
    fields: list[Any] | None = None
    return_object: str | None = None
    for key, raw in params:
        if key == "fields":
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise QueryError('fields must be a JSON array, e.g. ["id","status"]') from None
            if not isinstance(parsed, list):
                raise QueryError('fields must be a JSON array, e.g. ["id","status"]')
            fields = parsed
        elif key == "return_object":
            if raw not in {"limited", "shallow", "none"}:
                raise QueryError("return_object must be one of limited, shallow, none")
            return_object = raw
    return fields, return_object


def parse_query(params: list[tuple[str, str]], schema: Schema, *, writes: bool = False) -> Query:
    """Turn the raw query parameters into a Query, rejecting what Coupa would reject."""
    single = dict(params)
    limit = min(_int_param(single, "limit", MAX_LIMIT), MAX_LIMIT)  # silently clamped
    offset = _int_param(single, "offset", 0)
    fields, return_object = parse_shaping(params)
    if return_object == "none" and not writes:
        raise QueryError("return_object=none is only supported on POST and PUT")
    order_by = None
    order_kind = "number"
    if single.get("order_by"):
        order_by, order_kind = resolve_path(schema, [single["order_by"]])
        if order_kind == ANY:
            order_kind = "string"
    direction = single.get("dir", "asc").lower()
    if direction not in {"asc", "desc"}:
        raise QueryError(f"dir must be asc or desc, got '{direction}'")
    conditions = [
        parse_condition(k, v, schema) for k, v in params if k not in RESERVED and not writes
    ]
    if fields is not None:
        project(schema, fields, validate_only=True)
    return Query(
        conditions=conditions,
        limit=limit,
        offset=offset,
        order_by=order_by,
        order_kind=order_kind,
        desc=direction == "desc",
        fields=fields,
        return_object=return_object,
    )


# ---- execution ---------------------------------------------------------------------------
def _index_test(table: Table, cond: Condition, rid: int) -> bool:
    """Test an id/updated-at/created-at condition from the index, without building the record."""
    key = cond.path[0]
    value = rid if key == "id" else (table.updated if key == "updated-at" else table.created)[rid]
    return cond.test(value)


_RANGE_OPS = frozenset({"gt", "gt_or_eq", "lt", "lt_or_eq", "eq"})


def _first_key(pair: tuple[int, int]) -> int:
    return pair[0]


def _slice(
    keys: list[Any], conditions: list[Condition], key: str, by: Any = None
) -> tuple[int, int, list[Condition]]:
    """Exact [a, b) bounds of a sorted list for range conditions on `key` (bisect, no scan).

    Returns the bounds and the conditions the slice fully answers, which need no further test.
    """
    a, b = 0, len(keys)
    used: list[Condition] = []
    for c in conditions:
        if c.path != [key] or c.op not in _RANGE_OPS:
            continue
        v = float(c.values[0]) if key != "id" else c.values[0]
        if c.op in {"gt", "lt_or_eq"}:
            edge = bisect.bisect_right(keys, v, key=by)
        else:
            edge = bisect.bisect_left(keys, v, key=by)
        if c.op in {"gt", "gt_or_eq"}:
            a = max(a, edge)
        elif c.op in {"lt", "lt_or_eq"}:
            b = min(b, edge)
        else:
            a = max(a, edge)
            b = min(b, bisect.bisect_right(keys, v, key=by))
        used.append(c)
    return a, max(a, b), used


def _sort_key(value: Any, kind: str) -> tuple[int, Any]:
    if value is None:
        return (0, 0)  # MySQL sorts NULL first ascending
    if isinstance(value, dict):
        value = value.get("id")
    coerced = _coerce(value, kind if kind != ANY else "string")
    return (1, coerced) if coerced is not None else (0, 0)


def select_ids(table: Table, query: Query, salt: int, stable: bool) -> list[int]:
    """The ids of one page, in the order Coupa would return them.

    Range conditions on id / updated-at become slices of the sorted index; remaining
    conditions are tested lazily, so a keyset page costs about `limit` record lookups.
    """
    indexed = [c for c in query.conditions if len(c.path) == 1 and c.path[0] in INDEXED]
    residual = [c for c in query.conditions if c not in indexed]
    order = ".".join(query.order_by) if query.order_by else None

    if order == "updated-at":
        pairs = table.by_updated
        a, b, used = _slice(pairs, indexed, "updated-at", _first_key)
        seq: list[int] = [p[1] for p in pairs[a:b]]
    else:
        ids = table.ids
        a, b, used = _slice(ids, indexed, "id")
        seq = ids[a:b] if (a, b) != (0, len(ids)) else ids
        if table.spec.timestamps and any(c.path == ["updated-at"] for c in indexed):
            pairs = table.by_updated
            ua, ub, up_used = _slice(pairs, indexed, "updated-at", _first_key)
            if ub - ua < b - a:
                lo_id, hi_id = (ids[a], ids[b - 1]) if b > a else (0, -1)
                seq = sorted(p[1] for p in pairs[ua:ub] if lo_id <= p[1] <= hi_id)
                used = used + up_used
    pending = [c for c in indexed if c not in used]

    def index_ok(rid: int) -> bool:
        return all(_index_test(table, c, rid) for c in pending)

    if order == "created-at":
        seq = sorted(filter(index_ok, seq), key=lambda rid: (table.created[rid], rid))
        pending = []
    elif order not in {None, "id", "updated-at", "created-at"}:
        assert query.order_by is not None  # noqa: S101 - narrowed above
        loaded = [
            (rid, rec)
            for rid, rec in table.iter_records(filter(index_ok, seq))
            if _all(residual, rec)
        ]
        residual, pending = [], []
        path = query.order_by
        loaded.sort(key=lambda item: (_sort_key(_first(item[1], path), query.order_kind), item[0]))
        seq = [rid for rid, _ in loaded]

    if order is None and not stable:
        if pending or residual:
            seq = [
                rid for rid, rec in table.iter_records(filter(index_ok, seq)) if _all(residual, rec)
            ]
        return _shuffled_page(seq, query.offset, query.limit, salt)

    ordered: Iterable[int] = reversed(seq) if query.desc else seq
    if pending:
        ordered = filter(index_ok, ordered)
    if residual:
        ordered = (rid for rid, rec in table.iter_records(ordered) if _all(residual, rec))
    return _page(ordered, query.offset, query.limit)


def _first(record: Record, path: list[str]) -> Any:
    found: list[Any] = []
    _walk(record, path, 0, found)
    return found[0] if found else None


def _all(conditions: list[Condition], record: Record) -> bool:
    return all(c.matches(record) for c in conditions)


def _page(ordered: Iterable[int], offset: int, limit: int) -> list[int]:
    it: Iterator[int] = iter(ordered)
    for _ in range(offset):
        if next(it, None) is None:
            return []
    out: list[int] = []
    for rid in it:
        if len(out) >= limit:
            break
        out.append(rid)
    return out


def _shuffled_page(seq: list[int], offset: int, limit: int, salt: int) -> list[int]:
    """Without order_by Coupa promises no order: an affine permutation that differs per request."""
    n = len(seq)
    if n == 0 or offset >= n:
        return []
    rng = random.Random(salt)
    step = rng.randrange(1, max(2, n)) if n > 1 else 1
    while math.gcd(step, n) != 1:
        step += 1
    start = rng.randrange(n)
    return [seq[(start + step * j) % n] for j in range(offset, min(n, offset + limit))]


# ---- shaping -----------------------------------------------------------------------------
_NATURAL = ("id", "code", "name", "login", "email", "number", "location-code", "remit-to-code")


def project(node: Any, fields: list[Any], *, validate_only: bool = False) -> Any:
    """Apply a `fields` selector to a record (or validate it against a schema)."""
    out: dict[str, Any] = {}
    for item in fields:
        if isinstance(item, str):
            key = norm(item)
            if key not in node:
                raise QueryError(f"Unknown field '{item}' in fields")
            out[key] = node[key]
        elif isinstance(item, dict):
            for raw_key, sub in item.items():
                key = norm(raw_key)
                if key not in node:
                    raise QueryError(f"Unknown field '{raw_key}' in fields")
                value = node[key]
                if sub in ({}, [], None) or (validate_only and not isinstance(value, dict)):
                    out[key] = value
                elif not isinstance(sub, list):
                    raise QueryError(f"fields for '{raw_key}' must be a list or {{}}")
                elif isinstance(value, list):
                    out[key] = [project(v, sub) for v in value if isinstance(v, dict)]
                elif isinstance(value, dict):
                    out[key] = project(value, sub, validate_only=validate_only)
                else:
                    out[key] = value
        else:
            raise QueryError("fields entries must be names or {name: [...]} objects")
    return out


def _shallow_ref(value: dict[str, Any]) -> dict[str, Any]:
    return {k: value[k] for k in _NATURAL if k in value}


def shape(record: Record, query: Query) -> Record:
    """`return_object` then `fields`, as Coupa applies them."""
    if query.return_object == "limited":
        return {"id": record.get("id")}
    if query.return_object == "shallow":
        shallow: Record = {}
        for key, value in record.items():
            if isinstance(value, dict) and key != "custom-fields":
                shallow[key] = _shallow_ref(value)
            elif isinstance(value, list):
                shallow[key] = [_shallow_ref(v) if isinstance(v, dict) else v for v in value]
            else:
                shallow[key] = value
        record = shallow
    if query.fields is not None:
        projected: Record = project(record, query.fields)
        return projected
    return record
