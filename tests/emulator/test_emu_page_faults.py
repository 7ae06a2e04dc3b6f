"""Fault rules aimed at one kind of request: non-array 200 bodies on exactly the pages chosen."""

from __future__ import annotations

import pytest

from coupa_emulator.control import ControlError

SWEEP = ['fields=["id"]', "dir=asc"]


@pytest.mark.parametrize(
    ("rule", "check"),
    [
        ({"kind": "status", "status": 200, "body": "json"}, lambda r: isinstance(r.json(), dict)),
        ({"kind": "status", "status": 200, "body": "empty"}, lambda r: r.content == b""),
        ({"kind": "status", "status": 200, "body": "html"}, lambda r: "<html>" in r.text),
        ({"kind": "status", "status": 200, "body": "xml"}, lambda r: "<errors>" in r.text),
        ({"kind": "truncate"}, lambda r: r.text.startswith("[") and not r.text.endswith("]")),
    ],
)
def test_a_query_rule_hits_only_the_requests_it_names(api, coupa, rule, check):
    coupa.control.add_faults([{**rule, "path": "/api/invoices", "query": SWEEP, "times": 1}])
    # The main read's pages share the path, not the query: untouched.
    page = api.get("/api/invoices", {"order_by": "id", "dir": "asc", "limit": 50})
    assert page.status_code == 200
    assert isinstance(page.json(), list)
    assert page.json()
    listing = {"fields": '["id"]', "order_by": "id", "dir": "asc", "id[gt]": 0, "limit": 50}
    hit = api.get("/api/invoices", listing)
    assert hit.status_code == 200
    assert check(hit)
    again = api.get("/api/invoices", listing)  # times=1
    assert isinstance(again.json(), list)
    assert set(again.json()[0]) == {"id"}


def test_a_query_may_be_one_string_and_must_be_strings(api, coupa):
    coupa.control.add_faults([{"kind": "status", "status": 502, "query": "id[gt]=50"}])
    assert api.get("/api/invoices", {"id[gt]": 10}).status_code == 200
    assert api.get("/api/invoices", {"id[gt]": 50}).status_code == 502
    with pytest.raises(ControlError, match="fault query"):
        coupa.control.add_faults([{"kind": "status", "query": [1]}])
