"""A tenant that differs: missing, unlicensed and failing collections; vanishing parents."""

from __future__ import annotations

import pytest
import requests

from coupa_emulator.control import ControlError


def test_missing_collection_answers_rails_no_route(api, coupa):
    coupa.control.configure(missing_collections=["/api/budget_lines"])
    response = api.get("/api/budget_lines")
    assert response.status_code == 404
    assert response.json() == {"errors": {"error": ['No route matches [GET] "/api/budget_lines"']}}
    assert api.get("/api/budget_lines/3").status_code == 404  # members too
    assert "<error>No route matches" in api.get("/api/budget_lines", accept=None).text
    # Routing comes before authentication.
    anonymous = requests.get(f"{coupa.base_url}/api/budget_lines", timeout=30)
    assert anonymous.status_code == 404
    # Other collections, including one whose name starts the same, are served.
    assert api.get("/api/budget_line_adjustments").status_code == 200


def test_placeholder_matches_any_parent(api, coupa):
    coupa.control.configure(missing_collections=["/api/suppliers/{id}/addresses"])
    supplier = coupa.control.record_ids("suppliers")[0]
    assert api.get(f"/api/suppliers/{supplier}/addresses").status_code == 404
    assert api.get("/api/suppliers").status_code == 200


def test_unlicensed_collection_is_403_with_any_valid_token(api, coupa):
    coupa.control.configure(unlicensed_collections=["/api/contracts"])
    assert api.get("/api/contracts").status_code == 403
    anonymous = requests.get(f"{coupa.base_url}/api/contracts", timeout=30)
    assert anonymous.status_code == 401


def test_failing_collection_is_503_every_time(api, coupa):
    coupa.control.configure(failing_collections=["/api/uoms"])
    for _ in range(3):
        response = api.get("/api/uoms")
        assert response.status_code == 503
        assert "text/html" in response.headers["Content-Type"]


def test_vanishing_parent_is_deleted_at_its_sub_resource_read(api, coupa):
    suppliers = coupa.control.record_ids("suppliers")
    gone, kept = suppliers[1], suppliers[2]
    coupa.control.configure(vanishing_parents={"suppliers": [gone]})
    assert api.get(f"/api/suppliers/{kept}/addresses").status_code == 200
    assert gone in coupa.control.record_ids("suppliers")  # until its sub-resource is read
    response = api.get(f"/api/suppliers/{gone}/addresses")
    assert response.status_code == 404
    assert gone not in coupa.control.record_ids("suppliers")
    assert api.get(f"/api/suppliers/{gone}").status_code == 404
    assert api.get("/api/suppliers/999999/addresses").status_code == 404  # any missing parent


@pytest.mark.parametrize(
    "knobs",
    [
        {"missing_collections": "/api/x"},
        {"missing_collections": ["api/x"]},
        {"failing_collections": ["/api/x\n"]},
        {"vanishing_parents": {"nope": [1]}},
        {"vanishing_parents": {"suppliers": ["1"]}},
    ],
)
def test_bad_tenant_knob_is_refused(coupa, knobs):
    with pytest.raises(ControlError, match="400"):
        coupa.control.configure(**knobs)
