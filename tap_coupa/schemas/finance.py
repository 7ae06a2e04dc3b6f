"""Account groups and rules, budgets, lookups, shipping terms, tax codes and registrations."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    ACCOUNT_TYPE_STUB,
    BOOLEAN,
    COUNTRY,
    CURRENCY,
    DATETIME,
    DECIMAL,
    ID_NAME,
    INTEGER,
    NUMBER,
    STRING,
    USER_STUB,
    Schema,
    obj,
    record,
    timestamped,
)

ACCOUNT_GROUP: Schema = timestamped(
    name=STRING, description=STRING, active=BOOLEAN, account_type=ACCOUNT_TYPE_STUB
)
ACCOUNT_VALIDATION_RULE: Schema = timestamped(
    name=STRING, condition=STRING, active=BOOLEAN, account_type=ACCOUNT_TYPE_STUB
)

#: Reference §8.6 budget line (segments 1-20 in Coupa; discovery adds those a tenant uses).
BUDGET_LINE: Schema = timestamped(
    amount=DECIMAL,
    remaining=DECIMAL,
    period=ID_NAME,
    description=STRING,
    owner=USER_STUB,
    currency=CURRENCY,
    **{f"segment_{n}": STRING for n in range(1, 4)},
)

#: No updated-at in Coupa: a full-table stream.
BUDGET_LINE_ADJUSTMENT: Schema = record(
    created_at=DATETIME,
    created_by=USER_STUB,
    amount=DECIMAL,
    reason=STRING,
    budget_line=obj(id=INTEGER),
)

LOOKUP: Schema = timestamped(name=STRING, description=STRING, active=BOOLEAN)
SHIPPING_TERM: Schema = timestamped(code=STRING, description=STRING, active=BOOLEAN)

#: Reference §8.6 tax code.
TAX_CODE: Schema = timestamped(
    code=STRING,
    description=STRING,
    percentage=NUMBER,
    country=COUNTRY,
    active=BOOLEAN,
    effective_date=DATETIME,
    tax_rate=NUMBER,
)

TAX_REGISTRATION: Schema = timestamped(
    number=STRING, country=COUNTRY, active=BOOLEAN, owner_type=STRING, owner_id=INTEGER
)
