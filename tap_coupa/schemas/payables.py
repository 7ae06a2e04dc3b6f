"""Coupa Pay payments and charges, and payables (reference §4)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    BOOLEAN,
    CURRENCY,
    DATETIME,
    DECIMAL,
    INTEGER,
    STRING,
    SUPPLIER_STUB,
    Schema,
    array,
    obj,
    timestamped,
)

PAYMENT: Schema = timestamped(
    status=STRING,
    payment_date=DATETIME,
    amount=DECIMAL,
    currency=CURRENCY,
    payee=SUPPLIER_STUB,
    payment_method=STRING,
    exported=BOOLEAN,
)

CHARGE: Schema = timestamped(
    status=STRING,
    charge_date=DATETIME,
    total=DECIMAL,
    currency=CURRENCY,
    merchant_reference=STRING,
    supplier=SUPPLIER_STUB,
    exported=BOOLEAN,
)

PAYABLE: Schema = timestamped(
    status=STRING,
    document_type=STRING,
    document_id=INTEGER,
    amount=DECIMAL,
    currency=CURRENCY,
    supplier=SUPPLIER_STUB,
    payment_date=DATETIME,
    reconciliation_lines=array(obj(id=INTEGER, amount=DECIMAL, status=STRING)),
)
