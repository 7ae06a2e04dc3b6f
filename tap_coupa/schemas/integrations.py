"""Integrations, their runs, errors and history records (reference §4)."""

from __future__ import annotations

from tap_coupa.schemas._fragments import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    STRING,
    Schema,
    array,
    obj,
    timestamped,
)

_INTEGRATION_REF = obj(id=INTEGER, name=STRING, code=STRING)

INTEGRATION: Schema = timestamped(
    name=STRING, code=STRING, description=STRING, direction=STRING, active=BOOLEAN
)

RUN: Schema = timestamped(
    integration=_INTEGRATION_REF,
    status=STRING,
    started_at=DATETIME,
    ended_at=DATETIME,
    records_processed=INTEGER,
)

ERROR: Schema = timestamped(
    integration=_INTEGRATION_REF,
    document_type=STRING,
    document_id=INTEGER,
    message=STRING,
    resolved=BOOLEAN,
)

HISTORY_RECORD: Schema = timestamped(
    document_type=STRING,
    document_id=INTEGER,
    status=STRING,
    contact_alert_type=STRING,
    responses=array(obj(id=INTEGER, status=STRING, response_code=STRING, message=STRING)),
)
