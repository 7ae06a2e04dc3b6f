"""Schema pieces that Coupa repeats on every object: stubs, money, audit fields, custom fields.

Plain JSON-schema dicts built by small functions, so each stream's schema reads like Coupa's
field list. Everything but `id` is nullable (Coupa sends nulls), objects allow properties we did
not list (stubs grow between Coupa releases) and decimals are strings, as Coupa sends them, so a
16-digit amount arrives unchanged.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": ["string", "null"]}
INTEGER: Schema = {"type": ["integer", "null"]}
NUMBER: Schema = {"type": ["number", "null"]}
BOOLEAN: Schema = {"type": ["boolean", "null"]}
DATETIME: Schema = {"type": ["string", "null"], "format": "date-time"}
DECIMAL: Schema = {
    "type": ["string", "null"],
    "description": "Decimal as Coupa sends it: a string, full precision.",
}


def obj(**properties: Schema) -> Schema:
    """A nullable nested object (a stub) that keeps keys we did not list."""
    return {
        "type": ["object", "null"],
        "properties": _hyphenate(properties),
        "additionalProperties": True,
    }


def array(items: Schema) -> Schema:
    """A nullable array."""
    return {"type": ["array", "null"], "items": items}


def record(**properties: Schema) -> Schema:
    """A top-level Coupa record: integer `id` plus the given properties."""
    return {
        "type": "object",
        "properties": {"id": {"type": "integer"}, **_hyphenate(properties)},
        "additionalProperties": True,
    }


def timestamped(**properties: Schema) -> Schema:
    """A record with Coupa's audit fields (`created-at`, `updated-at`, `created-by`, ...)."""
    return record(**AUDIT, **properties)


def _hyphenate(properties: dict[str, Schema]) -> dict[str, Schema]:
    """Python names use `_`; Coupa keys use `-` (`custom_fields` -> `custom-fields`)."""
    return {name.replace("_", "-"): schema for name, schema in properties.items()}


ID_NAME = obj(id=INTEGER, name=STRING)
USER_STUB = obj(
    id=INTEGER,
    login=STRING,
    email=STRING,
    employee_number=STRING,
    firstname=STRING,
    lastname=STRING,
    fullname=STRING,
)
CURRENCY = obj(id=INTEGER, code=STRING, decimals=INTEGER)
COUNTRY = obj(id=INTEGER, code=STRING, name=STRING)
SUPPLIER_STUB = obj(id=INTEGER, name=STRING, display_name=STRING, number=STRING)
ACCOUNT_TYPE_STUB = ID_NAME
ACCOUNT_STUB = obj(id=INTEGER, name=STRING, code=STRING, active=BOOLEAN, account_type=ID_NAME)
UOM_STUB = obj(id=INTEGER, code=STRING, name=STRING)
PAYMENT_TERM_STUB = obj(id=INTEGER, code=STRING, description=STRING)
COMMODITY_STUB = ID_NAME
ADDRESS_STUB = obj(
    id=INTEGER,
    name=STRING,
    location_code=STRING,
    street1=STRING,
    # No `street2`: the nested addresses of reference §9's invoice and order samples lack it
    # (a supplier's primary address has it); discovery adds it where a tenant sends it, and a
    # declared field Coupa lacks made a trimmed `fields=` request fail with a 400.
    city=STRING,
    state=STRING,
    postal_code=STRING,
    country=COUNTRY,
)
CUSTOM_FIELDS: Schema = {
    "type": ["object", "null"],
    "properties": {},
    "additionalProperties": True,
    "description": "Tenant-specific custom fields; discovery adds the keys your instance has.",
}
ACCOUNT_ALLOCATION = obj(id=INTEGER, pct=DECIMAL, amount=DECIMAL, account=ACCOUNT_STUB)
TAX_LINE = obj(id=INTEGER, amount=DECIMAL, rate=NUMBER, code=STRING, description=STRING)

AUDIT: dict[str, Schema] = {
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "created_by": USER_STUB,
    "updated_by": USER_STUB,
}
