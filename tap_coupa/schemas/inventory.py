"""Receiving and inventory documents (reference §4, §8.6 inventory transaction)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    BOOLEAN,
    DATETIME,
    DECIMAL,
    ID_NAME,
    INTEGER,
    STRING,
    SUPPLIER_STUB,
    USER_STUB,
    Schema,
    array,
    obj,
    timestamped,
)
from tap_coupa.schemas.procurement import INVENTORY_TRANSACTION

#: Receipts, adjustments, consumptions, transfers and returns share Coupa's transaction shape.
TRANSACTION: Schema = INVENTORY_TRANSACTION

_LINE = obj(id=INTEGER, line_num=STRING, quantity=DECIMAL, description=STRING)

ASN_HEADER: Schema = timestamped(
    asn_number=STRING,
    status=STRING,
    ship_date=DATETIME,
    supplier=SUPPLIER_STUB,
    lines=array(_LINE),
)

REQUEST: Schema = timestamped(
    status=STRING,
    request_date=DATETIME,
    requested_by=USER_STUB,
    warehouse=ID_NAME,
    exported=BOOLEAN,
    lines=array(_LINE),
)
