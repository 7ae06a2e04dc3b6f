"""Expense reports and their lines (reference §8.6)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    ACCOUNT_STUB,
    BOOLEAN,
    CURRENCY,
    DATETIME,
    DECIMAL,
    ID_NAME,
    INTEGER,
    STRING,
    USER_STUB,
    Schema,
    array,
    timestamped,
)

EXPENSE_LINE = timestamped(
    line_number=INTEGER,
    description=STRING,
    merchant=STRING,
    amount=DECIMAL,
    expense_date=DATETIME,
    expense_category=ID_NAME,
    currency=CURRENCY,
    exchange_rate=DECIMAL,
    account=ACCOUNT_STUB,
    reason=STRING,
)

EXPENSE_REPORT: Schema = timestamped(
    title=STRING,
    status=STRING,
    submitted_at=DATETIME,
    expensed_by=USER_STUB,
    total=DECIMAL,
    currency=CURRENCY,
    paid=BOOLEAN,
    exported=BOOLEAN,
    audit_score=INTEGER,
    expense_lines=array(EXPENSE_LINE),
)
