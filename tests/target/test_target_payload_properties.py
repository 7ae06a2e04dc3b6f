"""Property-based tests of the target's payload building (target_coupa.payloads, .poison).

The properties are the promises the write protocol rests on: only writable fields are sent,
each reference by exactly one key, an invoice compared with itself is unchanged (so a rerun
writes nothing), formatting differences do not count as changes, real changes always do,
lines are never matched twice, and no input record makes the mapping raise anything but
PayloadError.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from target_coupa.outcomes import Outcome, RecordOutcome
from target_coupa.payloads import (
    HEADER_FIELDS,
    LINE_FIELDS,
    LINES,
    LineRequest,
    PayloadError,
    key_of,
    match_lines,
    plan_update,
    request_from,
)
from target_coupa.poison import escape, escaped, problem_of
from target_coupa.references import HEADER_REFERENCES, LINE_REFERENCES

EXAMPLES = settings(max_examples=150, deadline=None)

TEXT = st.text(max_size=12)
NONBLANK = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
AMOUNTS = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False
).map(str)
IDS = st.integers(min_value=1, max_value=10**9)
INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=st.just(dt.UTC)
)
OFFSETS = st.integers(min_value=-12, max_value=14).map(lambda h: dt.timezone(dt.timedelta(hours=h)))


def stub(*keys: str) -> st.SearchStrategy[dict[str, Any]]:
    """A reference stub as Coupa renders it: an id and some natural keys (maybe null)."""
    return st.fixed_dictionaries({"id": IDS}, optional={key: st.none() | NONBLANK for key in keys})


LINE = st.fixed_dictionaries(
    {"id": IDS, "price": AMOUNTS},
    optional={
        "line-num": st.none() | st.integers(min_value=1, max_value=9),
        "type": st.sampled_from(["InvoiceQuantityLine", "InvoiceAmountLine"]),
        "description": TEXT,
        "quantity": AMOUNTS,
        "source-part-num": st.none() | TEXT,
        "uom": stub("code"),
        "account": stub("code", "name"),
        "commodity": stub("name"),
        # Coupa-owned: never sent
        "total": AMOUNTS,
        "status": st.sampled_from(["matched", "draft"]),
        "order-line-id": IDS,
    },
)

RECORD = st.fixed_dictionaries(
    {
        "invoice-number": NONBLANK,
        "supplier": st.fixed_dictionaries({"id": IDS, "number": NONBLANK}, optional={"name": TEXT}),
    },
    optional={
        "id": IDS,
        "status": st.sampled_from(["draft", "approved", "voided"]),
        "total-with-taxes": AMOUNTS,
        "approvals": st.lists(st.fixed_dictionaries({"id": IDS}), max_size=2),
        "invoice-date": INSTANTS.map(lambda d: d.isoformat()),
        "comments": st.none() | TEXT,
        "shipping-amount": AMOUNTS,
        "tax-amount": AMOUNTS,
        "currency": stub("code"),
        "payment-term": stub("code"),
        "account-type": stub("name"),
        "bill-to-address": stub("location-code", "name"),
        "custom-fields": st.dictionaries(
            st.text(min_size=1, max_size=8), st.none() | TEXT, max_size=3
        ),
        LINES: st.lists(LINE, max_size=4),
    },
)

HEADER_KEYS = set(HEADER_FIELDS) | set(HEADER_REFERENCES) | {LINES}
LINE_KEYS = set(LINE_FIELDS) | set(LINE_REFERENCES)


@EXAMPLES
@given(RECORD)
def test_only_writable_fields_are_sent_each_reference_by_one_key(record: dict[str, Any]) -> None:
    payload = request_from(record).create_payload()
    assert set(payload) <= HEADER_KEYS
    for name, kind in HEADER_REFERENCES.items():
        if name in payload:
            [(key, value)] = payload[name].items()
            source = record[name]
            natural = [k for k in kind.natural_keys if source.get(k) not in (None, "")]
            natural = [
                k for k in natural if not (isinstance(source[k], str) and not source[k].strip())
            ]
            assert key == (natural[0] if natural else "id")
            assert value == source[key]
    for line in payload.get(LINES, []):
        assert set(line) <= LINE_KEYS
        assert "id" not in line  # ids of the source instance are never sent on a create
        for name in LINE_REFERENCES:
            if name in line:
                assert len(line[name]) == 1


@EXAMPLES
@given(RECORD)
def test_an_invoice_compared_with_itself_is_unchanged(record: dict[str, Any]) -> None:
    """Coupa returns the invoice in the tap's shape: a rerun of the same record writes nothing."""
    plan = plan_update(request_from(record), record)
    assert plan.unchanged, plan.differences


@EXAMPLES
@given(RECORD, OFFSETS)
def test_formatting_is_not_a_change(record: dict[str, Any], offset: dt.timezone) -> None:
    """Decimals by value, timestamps as instants, surrounding blanks in text ignored."""
    stored = copy.deepcopy(record)
    for name in ("shipping-amount", "tax-amount"):
        if name in stored:
            stored[name] = str(Decimal(stored[name]).quantize(Decimal("0.0001")))
    if "invoice-date" in stored:
        stored["invoice-date"] = (
            dt.datetime.fromisoformat(stored["invoice-date"]).astimezone(offset).isoformat()
        )
    for line in stored.get(LINES, []):
        line["price"] = str(Decimal(line["price"]).quantize(Decimal("0.001")))
    assert plan_update(request_from(record), stored).unchanged


@EXAMPLES
@given(RECORD, NONBLANK)
def test_a_real_change_is_always_sent(record: dict[str, Any], comment: str) -> None:
    existing = copy.deepcopy(record)
    existing["comments"] = "before: " + comment
    record = {**record, "comments": "after: " + comment}
    plan = plan_update(request_from(record), existing)
    assert not plan.unchanged
    assert plan.payload["comments"] == record["comments"]
    assert "invoice-number" not in plan.payload  # the key is never changed by an update
    assert "supplier" not in plan.payload


@EXAMPLES
@given(st.lists(LINE, max_size=5), st.lists(LINE, max_size=5))
def test_lines_are_never_matched_twice(
    wanted: list[dict[str, Any]], have: list[dict[str, Any]]
) -> None:
    lines = [
        LineRequest({"description": "x"}, line.get("line-num"), line.get("id")) for line in wanted
    ]
    pairs = match_lines(lines, have)
    matched = [id(found) for _, found in pairs if found is not None]
    assert len(matched) == len(set(matched)) == len(have)  # every existing line once
    assert [line for line, _ in pairs if line is not None] == lines  # input order kept
    plan = plan_update(
        request_from({"invoice-number": "N", "supplier": {"number": "S"}, LINES: wanted}),
        {LINES: have},
    )
    kept = [p for p in plan.payload[LINES] if not p.get("_delete")]
    assert len(kept) == len(wanted)  # an update never ends with more lines than the input


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT | AMOUNTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)
INVOICE_KEYS = st.sampled_from(
    ["invoice-number", "supplier", "currency", LINES, "custom-fields", "invoice-date", "comments"]
)


KEYED = st.fixed_dictionaries({"invoice-number": NONBLANK, "supplier": stub("number", "name")})
ODD_RECORDS = st.builds(
    lambda base, extra: {**base, **extra},
    st.none().map(lambda _: {}) | KEYED,
    st.dictionaries(INVOICE_KEYS | TEXT, ANY_JSON, max_size=7),
)


@settings(max_examples=300, deadline=None)
@given(ODD_RECORDS, st.integers(min_value=1) | st.text(min_size=1, max_size=3) | ANY_JSON)
def test_any_record_maps_or_is_refused_with_a_payload_error(
    record: dict[str, Any], existing_lines: Any
) -> None:
    try:
        request = request_from(record)
    except PayloadError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert "key invoices are upserted by" in message
        return
    assert key_of(record) == request.key
    plan_update(request, {**record, LINES: existing_lines})  # never raises


@EXAMPLES
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=20))
def test_any_text_can_be_dead_lettered(text: str) -> None:
    """Lone surrogates and escaped input bytes become visible escapes in valid UTF-8 JSON."""
    record = {"invoice-number": text, "comments": {"deep": [text]}}
    letter = RecordOutcome(
        Outcome.REJECTED, stream="invoices", errors=(text,), record=record
    ).dead_letter(secrets=())
    line = json.dumps(letter, ensure_ascii=False).encode("utf-8")  # never raises
    assert json.loads(line)["record"]["invoice-number"] == escape(text)
    clean = all(not 0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (problem_of(record) is None) == clean
    assert escaped(record) == record if clean else escaped(record) != record
