"""Chart of accounts, lookups, currencies, rates, terms, commodities, units (reference §8.6)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    BOOLEAN,
    CURRENCY,
    DATETIME,
    DECIMAL,
    ID_NAME,
    INTEGER,
    NUMBER,
    STRING,
    Schema,
    obj,
    record,
    timestamped,
)

ACCOUNT: Schema = timestamped(
    name=STRING,
    code=STRING,
    active=BOOLEAN,
    account_type=ID_NAME,
    account_type_id=INTEGER,
    **{f"segment_{n}": STRING for n in range(1, 6)},
)

ACCOUNT_TYPE: Schema = timestamped(name=STRING, active=BOOLEAN, currency=CURRENCY)

LOOKUP_VALUE: Schema = timestamped(
    name=STRING,
    description=STRING,
    external_ref_num=STRING,
    active=BOOLEAN,
    depth=INTEGER,
    lookup=ID_NAME,
    parent=obj(id=INTEGER, name=STRING),
)

#: Currencies carry no timestamps in Coupa: a full-table stream.
CURRENCY_RECORD: Schema = record(
    code=STRING, name=STRING, symbol=STRING, enabled=BOOLEAN, decimals=INTEGER
)

EXCHANGE_RATE: Schema = timestamped(
    from_currency=CURRENCY,
    to_currency=CURRENCY,
    rate=DECIMAL,
    rate_date=DATETIME,
)

PAYMENT_TERM: Schema = timestamped(
    code=STRING,
    description=STRING,
    days_for_net_payment=INTEGER,
    days_for_discount_payment=INTEGER,
    discount_rate=NUMBER,
    active=BOOLEAN,
)

COMMODITY: Schema = timestamped(
    name=STRING,
    active=BOOLEAN,
    category=STRING,
    parent=obj(id=INTEGER, name=STRING),
)

UOM: Schema = timestamped(code=STRING, name=STRING, allowable_precision=INTEGER, active=BOOLEAN)
