"""Arrays nested in documents and their lines: allocations, charges, tax lines (reference §8.2)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    ACCOUNT_STUB,
    BOOLEAN,
    CURRENCY,
    DECIMAL,
    INTEGER,
    NUMBER,
    STRING,
    Schema,
    array,
    timestamped,
)

#: `account-allocations[]` of a line or charge: a share of its amount booked to one account.
ACCOUNT_ALLOCATION: Schema = timestamped(
    pct=DECIMAL,
    amount=DECIMAL,
    account=ACCOUNT_STUB,
)

#: `tax-lines[]` of an invoice, an invoice line or an invoice charge.
TAX_LINE: Schema = timestamped(
    amount=DECIMAL,
    rate=NUMBER,
    code=STRING,
    description=STRING,
    type=STRING,
    base=DECIMAL,
    taxable_amount=DECIMAL,
)

#: `invoice-charges[]`: shipping, handling and miscellaneous charges of an invoice.
INVOICE_CHARGE: Schema = timestamped(
    type=STRING,
    line_num=INTEGER,
    total=DECIMAL,
    accounting_total=DECIMAL,
    pct=NUMBER,
    distributed=BOOLEAN,
    currency=CURRENCY,
    account=ACCOUNT_STUB,
    account_allocations=array(ACCOUNT_ALLOCATION),
    tax_lines=array(TAX_LINE),
)
