"""Arrays nested in documents and their lines: allocations, charges, tax lines (reference §8.2)."""

from __future__ import annotations

import copy

from tap_coupa.schemas._fragments import (
    ACCOUNT_STUB,
    BOOLEAN,
    CURRENCY,
    DATETIME,
    DECIMAL,
    INTEGER,
    NUMBER,
    STRING,
    Schema,
    array,
    record,
)


def stamped(**properties: Schema) -> Schema:
    """A nested row: `id`, `created-at` and `updated-at` (Coupa nests no user stubs here)."""
    return record(created_at=DATETIME, updated_at=DATETIME, **properties)


#: `account-allocations[]` of a line or charge: a share of its amount booked to one account.
ACCOUNT_ALLOCATION: Schema = stamped(
    pct=DECIMAL,
    amount=DECIMAL,
    account=ACCOUNT_STUB,
)

#: `tax-lines[]` of an invoice, an invoice line or an invoice charge, as Coupa nests them
#: (`rate` a float).
NESTED_TAX_LINE: Schema = stamped(
    amount=DECIMAL,
    rate=NUMBER,
    code=STRING,
    description=STRING,
    type=STRING,
    base=DECIMAL,
    taxable_amount=DECIMAL,
)

#: A tax line as a row of `invoice_tax_lines`: `rate` is a string there, the one type the
#: column has in every stream (tap_coupa.field_types).
TAX_LINE: Schema = copy.deepcopy(NESTED_TAX_LINE)
TAX_LINE["properties"]["rate"] = DECIMAL

#: `invoice-charges[]`: shipping, handling and miscellaneous charges of an invoice.
INVOICE_CHARGE: Schema = stamped(
    type=STRING,
    line_num=INTEGER,
    total=DECIMAL,
    accounting_total=DECIMAL,
    pct=DECIMAL,
    distributed=BOOLEAN,
    currency=CURRENCY,
    account=ACCOUNT_STUB,
    account_allocations=array(ACCOUNT_ALLOCATION),
    tax_lines=array(NESTED_TAX_LINE),
)
