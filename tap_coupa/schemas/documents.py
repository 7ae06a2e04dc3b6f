"""PO changes, comments, easy-form responses and sourcing events (reference §4)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
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

PURCHASE_ORDER_CHANGE: Schema = timestamped(
    status=STRING,
    change_type=STRING,
    order_header_id=INTEGER,
    po_number=STRING,
    requester=USER_STUB,
    order_line_changes=array(obj(id=INTEGER, line_num=STRING, quantity=DECIMAL, price=DECIMAL)),
)

COMMENT: Schema = timestamped(
    comments=STRING, commentable_type=STRING, commentable_id=INTEGER, comment_type=STRING
)

EASY_FORM_RESPONSE: Schema = timestamped(
    status=STRING, easy_form=ID_NAME, submitted_at=DATETIME, submitted_by=USER_STUB
)

QUOTE_REQUEST: Schema = timestamped(
    description=STRING,
    state=STRING,
    event_type=STRING,
    start_time=DATETIME,
    end_time=DATETIME,
    lines=array(obj(id=INTEGER, description=STRING, quantity=DECIMAL)),
)

QUOTE_RESPONSE: Schema = timestamped(
    quote_request_id=INTEGER,
    supplier=SUPPLIER_STUB,
    state=STRING,
    submitted_at=DATETIME,
    lines=array(obj(id=INTEGER, price=DECIMAL, quantity=DECIMAL)),
)
