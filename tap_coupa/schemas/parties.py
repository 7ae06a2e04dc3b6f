"""Suppliers, users, departments and addresses (reference §8.4, §8.5, §8.6)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    ADDRESS_STUB,
    BOOLEAN,
    COUNTRY,
    CURRENCY,
    CUSTOM_FIELDS,
    DECIMAL,
    ID_NAME,
    INTEGER,
    PAYMENT_TERM_STUB,
    STRING,
    USER_STUB,
    Schema,
    array,
    obj,
    timestamped,
)

SUPPLIER: Schema = timestamped(
    name=STRING,
    display_name=STRING,
    number=STRING,
    status=STRING,
    tax_id=STRING,
    website=STRING,
    po_method=STRING,
    payment_method=STRING,
    invoice_matching_level=STRING,
    on_hold=BOOLEAN,
    one_time_supplier=BOOLEAN,
    savings_pct=DECIMAL,
    primary_contact=obj(id=INTEGER, email=STRING, name_given=STRING, name_family=STRING),
    primary_address=ADDRESS_STUB,
    payment_term=PAYMENT_TERM_STUB,
    remit_to_addresses=array(obj(id=INTEGER, remit_to_code=STRING, name=STRING)),
    custom_fields=CUSTOM_FIELDS,
)

USER: Schema = timestamped(
    login=STRING,
    email=STRING,
    employee_number=STRING,
    firstname=STRING,
    lastname=STRING,
    fullname=STRING,
    active=BOOLEAN,
    purchasing_user=BOOLEAN,
    expense_user=BOOLEAN,
    authentication_method=STRING,
    default_locale=STRING,
    manager=USER_STUB,
    department=ID_NAME,
    default_currency=CURRENCY,
    roles=array(obj(id=INTEGER, name=STRING)),
    custom_fields=CUSTOM_FIELDS,
)

DEPARTMENT: Schema = timestamped(name=STRING, active=BOOLEAN)

ADDRESS: Schema = timestamped(
    name=STRING,
    location_code=STRING,
    street1=STRING,
    street2=STRING,
    city=STRING,
    state=STRING,
    postal_code=STRING,
    country=COUNTRY,
    attention=STRING,
    active=BOOLEAN,
)
