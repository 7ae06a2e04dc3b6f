"""Property-based tests of the pure guards: response classification and query encoding."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from coupa_api.query import SAFE_QUERY_CHARS, encode, fields_param, instant, keyset_page, to_utc
from coupa_api.responses import RETRY_STATUSES, Verdict, classify, decode_json

# -- classify ---------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "truncated", "xml", "html", "text", "empty", "bytes",
                                 "errors"]))  # fmt: skip
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "errors":
        return json.dumps({"errors": {"invoice": draw(st.lists(st.text(max_size=30)))}}).encode()
    if kind == "truncated":
        full = json.dumps(draw(st.lists(JSON_VALUES, min_size=1, max_size=4))).encode()
        return full[: draw(st.integers(1, max(1, len(full) - 1)))]
    if kind == "xml":
        text = draw(st.text(max_size=30))
        return f'<?xml version="1.0"?><errors><error>{text}</error></errors>'.encode()
    if kind == "html":
        return b"<!DOCTYPE html><html><body><h1>Bad Gateway</h1></body></html>"
    if kind == "empty":
        return draw(st.sampled_from([b"", b"  \n"]))
    if kind == "bytes":
        return draw(st.binary(max_size=80))
    return draw(st.text(max_size=60)).encode()


def _response(status: int, body: bytes, content_type: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    response.encoding = "utf-8"
    return response


CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "application/xml",
     "text/html", "text/plain", "application/octet-stream"]
)  # fmt: skip


@settings(max_examples=200, deadline=500)
@given(st.integers(100, 599), bodies(), CONTENT_TYPES)
def test_classify_never_raises_and_follows_the_status(status, body, content_type):
    response = _response(status, body, content_type)
    result = classify(response, what="GET /api/invoices")
    if 200 <= status < 300:
        try:
            decode_json(_response(status, body, content_type))
        except ValueError:
            assert result.verdict is Verdict.RETRY
        else:
            assert result.verdict is Verdict.OK
    elif status == 401:
        assert result.verdict is Verdict.REAUTH
    elif status in RETRY_STATUSES or status >= 500:
        assert result.verdict is Verdict.RETRY
    else:
        assert result.verdict is Verdict.FATAL
    if result.verdict is not Verdict.OK:
        assert "GET /api/invoices" in result.message
        if not 200 <= status < 300:
            assert str(status) in result.message
        assert "Traceback" not in result.message


# -- query encoding ---------------------------------------------------------------------------
KEYS = st.from_regex(r"\A[a-z][a-z0-9_-]{0,10}(\[[a-z_]{1,8}\])?\Z")
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
)


@settings(max_examples=200, deadline=500)
@given(st.dictionaries(KEYS, st.one_of(VALUES, st.lists(VALUES, max_size=3)), max_size=5))
def test_encode_round_trips_and_keeps_brackets_readable(params):
    query = encode(params)
    expected = [
        (key, str(v))
        for key, value in params.items()
        for v in (value if isinstance(value, list) else [value])
    ]
    assert parse_qsl(query, keep_blank_values=True) == expected
    # Nothing in a value can start a new parameter, end the query or be read as a space.
    for key, _ in expected:
        assert f"{key}=" in query or "[" in key
    assert "#" not in query
    assert " " not in query
    assert ":" not in query  # timestamps' colons are percent-encoded, as Coupa requires
    for pair in query.split("&") if query else []:
        name = pair.split("=", 1)[0]
        assert "%5B" not in name  # brackets stay readable in names
        assert all(c not in SAFE_QUERY_CHARS or c in "[]," for c in name)


@settings(max_examples=150, deadline=500)
@given(st.datetimes(timezones=st.timezones()), st.datetimes(timezones=st.timezones()))
def test_utc_strings_sort_like_instants(a, b):
    ua, ub = to_utc(a.isoformat()), to_utc(b.isoformat())
    a_, b_ = a.replace(microsecond=0), b.replace(microsecond=0)
    if a_ < b_:
        assert ua[:19] <= ub[:19]
    assert instant(a).endswith("+00:00")
    assert dt.datetime.fromisoformat(instant(a)) == a.astimezone(dt.UTC).replace(microsecond=0)


@settings(max_examples=300, deadline=500)
@given(st.datetimes(timezones=st.none() | st.timezones()), st.sampled_from(["", "Z"]))
def test_utc_text_is_isoformats(moment, suffix):
    """to_utc writes with orjson exactly what `isoformat()` wrote (state and records keep it)."""
    text = moment.isoformat() + (suffix if moment.tzinfo is None else "")
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    try:
        expected = aware.astimezone(dt.UTC).isoformat()
    except OverflowError:  # year 1 or 9999 moved out of range by its offset
        with pytest.raises(OverflowError):
            to_utc(text)
        return
    assert to_utc(text) == expected


@settings(max_examples=100, deadline=500)
@given(st.integers(0, 2**40), st.one_of(st.none(), st.integers(0, 2**40)))
def test_keyset_pages_are_ordered_and_bounded(after, upper):
    params = keyset_page(after, upper_id=upper)
    query = dict(parse_qsl(encode(params)))
    assert query["order_by"] == "id"
    assert query["id[gt]"] == str(after)
    assert int(query["limit"]) <= 50
    assert ("id[lt_or_eq]" in query) == (upper is not None)


@settings(max_examples=100, deadline=500)
@given(st.lists(st.text(min_size=1, max_size=12), max_size=6))
def test_fields_param_is_compact_json(names):
    assert json.loads(fields_param(names)) == names
    assert ", " not in fields_param(names) or any(", " in n for n in names)
