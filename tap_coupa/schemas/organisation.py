"""Items, supplier extras, groups, entities and projects (reference §4, §8.4)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    BOOLEAN,
    COMMODITY_STUB,
    COUNTRY,
    CURRENCY,
    DATETIME,
    DECIMAL,
    ID_NAME,
    INTEGER,
    STRING,
    SUPPLIER_STUB,
    UOM_STUB,
    USER_STUB,
    Schema,
    obj,
    timestamped,
)

ITEM: Schema = timestamped(
    name=STRING,
    description=STRING,
    item_number=STRING,
    active=BOOLEAN,
    commodity=COMMODITY_STUB,
    uom=UOM_STUB,
)

SUPPLIER_ITEM: Schema = timestamped(
    supplier_part_num=STRING,
    price=DECIMAL,
    currency=CURRENCY,
    lead_time=INTEGER,
    preferred=BOOLEAN,
    supplier=SUPPLIER_STUB,
    item=obj(id=INTEGER, name=STRING),
)

#: Remit-to address fields of reference §8.4.
REMIT_TO_ADDRESS: Schema = timestamped(
    remit_to_code=STRING,
    name=STRING,
    street1=STRING,
    street2=STRING,
    city=STRING,
    state=STRING,
    postal_code=STRING,
    country=COUNTRY,
    active=BOOLEAN,
    external_src_ref=STRING,
    vat_number=STRING,
)

SUPPLIER_SITE: Schema = timestamped(
    name=STRING, code=STRING, active=BOOLEAN, supplier=SUPPLIER_STUB, po_email=STRING
)

SUPPLIER_INFORMATION: Schema = timestamped(
    name=STRING,
    display_name=STRING,
    status=STRING,
    tax_id=STRING,
    supplier=SUPPLIER_STUB,
)

RISK_FEED: Schema = timestamped(
    supplier=SUPPLIER_STUB, risk_level=STRING, category=STRING, description=STRING
)

USER_GROUP: Schema = timestamped(name=STRING, description=STRING, active=BOOLEAN)
USER_GROUP_MEMBERSHIP: Schema = timestamped(user=USER_STUB, user_group=ID_NAME)

BUSINESS_GROUP: Schema = timestamped(name=STRING, description=STRING)

ENTITY: Schema = timestamped(name=STRING, code=STRING, active=BOOLEAN, country=COUNTRY)

PROJECT: Schema = timestamped(
    name=STRING, description=STRING, status=STRING, owner=USER_STUB, start_date=DATETIME
)
TASK: Schema = timestamped(
    name=STRING, status=STRING, project=ID_NAME, assignee=USER_STUB, due_date=DATETIME
)
PROJECT_MEMBERSHIP: Schema = timestamped(project=ID_NAME, user=USER_STUB, role=STRING)
