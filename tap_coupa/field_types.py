"""One JSON type per column name, across every stream, and dates typed as dates.

A loader makes one column per top-level property, so an analyst joining `invoices` to
`invoice_lines` expects `tax-rate` to have the same type in both. Discovery types a key it has
not seen documented from one sample page; when every sampled value is null that guess is a
string, which made `tax-rate` a number on invoices and a string on invoice lines, and
`discount-due-date` plain text. The rules here, in order:

1. `CANONICAL` names (Coupa documents them, or two documented schemas disagreed) have one type
   everywhere, documented schemas included; `coerce` converts values Coupa sends otherwise.
2. A key another stream documents gets that documented type when the sampled values fit it.
3. A key named like a date (`...-date`, `...-at`) is a `date-time` (or a `date` when the values
   are plain dates) unless its values say otherwise.
4. Anything else is typed from its values (tap_coupa.discovery.infer).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

Schema = dict[str, Any]
_T = TypeVar("_T")

#: Types Coupa documents for names that would otherwise differ between streams. `tax-rate` and
#: `discount-percent` are floats in Coupa's JSON (decimals are strings, these are not);
#: `line-num` is a string on purchase order lines and an integer on invoice and requisition
#: lines, so it is a string everywhere (an integer converts to a string without loss).
CANONICAL: dict[str, Schema] = {
    "tax-rate": {"type": ["number", "null"]},
    "discount-percent": {"type": ["number", "null"]},
    "line-num": {"type": ["string", "null"]},
    # `rate` is a decimal string on exchange rates, a float on tax lines; `pct` a decimal on
    # account allocations: strings everywhere (a float converts to a string without loss).
    "rate": {"type": ["string", "null"]},
    "pct": {"type": ["string", "null"]},
}

#: Matched with `fullmatch`: `$` under `match` accepts a final newline, and a sampled value
#: "2024-01-01\n" would type a column that Coupa's other values then fail.
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_NAME = re.compile(r"(^|-)(date|at)\Z")


def tree_copy(schema: _T) -> _T:
    """A deep copy in which no two places share an object.

    `copy.deepcopy` keeps an object shared where the original shares it: the static schemas
    reuse fragments (`ID_NAME` is a commodity, a department and an account type), so keys
    discovery added to one stub appeared in the others, and a parent read only for its lines
    asked Coupa for `commodity.active`, which Coupa does not have (issue 15).
    """
    if isinstance(schema, dict):
        return cast("_T", {key: tree_copy(value) for key, value in schema.items()})
    if isinstance(schema, list):
        return cast("_T", [tree_copy(value) for value in schema])
    return schema


def documented_types(base_schemas: Iterable[Mapping[str, Any]]) -> dict[str, Schema]:
    """Name -> type of every top-level property some stream documents (canonical names win)."""
    known: dict[str, Schema] = {}
    for schema in base_schemas:
        for name, prop in (schema.get("properties") or {}).items():
            known.setdefault(name, prop)
    known.update(CANONICAL)
    return known


def harmonise(schema: Schema) -> Schema:
    """`schema` with every canonical top-level property set to its one type."""
    properties: dict[str, Schema] = schema.get("properties") or {}
    for name, canonical in CANONICAL.items():
        if name in properties:
            described = {k: v for k, v in properties[name].items() if k == "description"}
            properties[name] = {**copy.deepcopy(canonical), **described}
    return schema


def typed(name: str, values: list[Any], known: Mapping[str, Schema], inferred: Schema) -> Schema:
    """The schema of an undocumented key: canonical, documented elsewhere, date-like, inferred."""
    if name in CANONICAL:
        return tree_copy(CANONICAL[name])
    documented = known.get(name)
    if documented is not None and all(fits(value, documented) for value in values):
        return tree_copy(documented)
    if DATE_NAME.search(name) and inferred.get("type") == ["string", "null"]:
        strings = [value for value in values if value is not None]
        if all(isinstance(v, str) and DATE.fullmatch(v) for v in strings) and strings:
            return {"type": ["string", "null"], "format": "date"}
        if all(isinstance(v, str) and TIMESTAMP.fullmatch(v) for v in strings):
            return {"type": ["string", "null"], "format": "date-time"}
    return inferred


#: JSON-schema types that accept a Python value of each kind (bool before int: a subclass).
_ACCEPTED_BY: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
    (bool, frozenset({"boolean"})),
    (int, frozenset({"integer", "number"})),
    (float, frozenset({"number"})),
    (str, frozenset({"string"})),
    (Mapping, frozenset({"object"})),
    (list, frozenset({"array"})),
)


def fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether `value` is valid for `schema`'s declared type (formats of strings included)."""
    declared = schema.get("type")
    kinds = {declared} if isinstance(declared, str) else set(declared or ())
    if value is None or not kinds:
        return True
    accepted = next((types for cls, types in _ACCEPTED_BY if isinstance(value, cls)), frozenset())
    if not kinds & accepted:
        return False
    if isinstance(value, str):
        fmt = schema.get("format")
        if fmt == "date-time":
            return bool(TIMESTAMP.fullmatch(value))
        if fmt == "date":
            return bool(DATE.fullmatch(value))
    return True


def coerce(name: str, value: Any) -> Any:
    """A value Coupa sent, converted to the canonical type of `name` when it differs."""
    canonical = CANONICAL.get(name)
    if canonical is None or value is None or fits(value, canonical):
        return value
    kinds = set(canonical["type"])
    if "string" in kinds and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if "number" in kinds and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
