"""OAuth 2.0 client credentials and API authorization (reference §2, §3; bodies INFERRED)."""

from __future__ import annotations

import base64
import json
import time

import requests

from coupa_emulator.resources import RESOURCES
from tests.emulator.conftest import collection_path

FORM = {"grant_type": "client_credentials", "scope": "core.invoice.read"}


def _mints(coupa, client="demo"):
    return coupa.control.stats()["token_mints"].get(client, 0)


def _get(coupa, token, path="/api/invoices", accept="application/json"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept:
        headers["Accept"] = accept
    return requests.get(f"{coupa.base_url}{path}", headers=headers, timeout=30)


def test_form_body_credentials(coupa):
    r = requests.post(
        f"{coupa.base_url}/oauth2/token",
        data={**FORM, "client_id": "demo", "client_secret": "demo-secret"},
        timeout=30,
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["scope"] == "core.invoice.read"
    _header, payload, signature = body["access_token"].split(".")
    assert len(body["access_token"]) > 2000  # several KB, like Coupa's JWTs
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["scope"] == "core.invoice.read"
    assert signature


def test_basic_auth_credentials(coupa):
    r = requests.post(
        f"{coupa.base_url}/oauth2/token", data=FORM, auth=("demo", "demo-secret"), timeout=30
    )
    assert r.status_code == 200
    assert _get(coupa, r.json()["access_token"]).status_code == 200


def test_query_string_credentials_and_alias(coupa):
    r = requests.post(
        f"{coupa.base_url}/oauth2/access_tokens",
        params={**FORM, "client_id": "demo", "client_secret": "demo-secret"},
        timeout=30,
    )
    assert r.status_code == 200
    assert r.json()["access_token"]


def test_no_scope_gives_every_granted_scope(coupa, oauth_client):
    cid, secret = oauth_client(["core.invoice.read", "core.supplier.read"])
    r = requests.post(
        f"{coupa.base_url}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        timeout=30,
    )
    assert r.json()["scope"].split() == ["core.invoice.read", "core.supplier.read"]


def test_invalid_scope_names_ungranted_scopes(coupa, oauth_client):
    cid, secret = oauth_client(["core.invoice.read"])
    r = requests.post(
        f"{coupa.base_url}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret,
              "scope": "core.invoice.read core.supplier.read core.user.read"},
        timeout=30,
    )  # fmt: skip
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"
    assert "core.supplier.read core.user.read" in r.json()["error_description"]
    assert "core.invoice.read" not in r.json()["error_description"]


def test_invalid_client(coupa):
    r = requests.post(
        f"{coupa.base_url}/oauth2/token",
        data={**FORM, "client_id": "demo", "client_secret": "wrong"},
        timeout=30,
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_settle_window_refuses_then_accepts(coupa, mint_token):
    coupa.control.configure(settle_seconds=3)  # the early GET lands inside it on a loaded machine
    token = mint_token()
    early = _get(coupa, token)
    assert early.status_code == 401
    assert early.json()["error"] == "invalid_token"
    time.sleep(3.1)
    assert _get(coupa, token).status_code == 200


def test_expiry_and_expire_tokens(coupa, mint_token):
    coupa.control.configure(expires_in=3)  # the first GET lands inside it on a loaded machine
    token = mint_token()
    assert _get(coupa, token).status_code == 200
    time.sleep(3.1)
    expired = _get(coupa, token)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert expired.json()["error"] == "invalid_token"
    coupa.control.configure(expires_in=86399)
    fresh = mint_token()
    coupa.control.expire_tokens()
    assert _get(coupa, fresh).status_code == 401


def test_unknown_and_missing_token(coupa):
    assert _get(coupa, "garbage.token.value").status_code == 401
    missing = _get(coupa, None)
    assert missing.status_code == 401
    assert "WWW-Authenticate" in missing.headers


def test_missing_scope_is_403_naming_it(coupa, mint_token, oauth_client):
    cid, secret = oauth_client(["core.supplier.read"])
    token = mint_token(cid, secret)
    r = _get(coupa, token)
    assert r.status_code == 403
    assert r.json() == {**r.json(), "error": "insufficient_scope", "scope": "core.invoice.read"}
    assert _get(coupa, token, "/api/suppliers").status_code == 200
    assert _get(coupa, token, "/api/currencies").json()["scope"] == "core.common.read"


def test_scope_map_per_resource(coupa, mint_token, oauth_client):
    for name, spec in RESOURCES.items():
        cid, secret = oauth_client([spec.scope])
        token = mint_token(cid, secret)
        path = collection_path(coupa, name)
        assert _get(coupa, token, f"{path}?limit=1").status_code == 200, name


def test_mint_counter_per_client(coupa, mint_token, oauth_client):
    cid, secret = oauth_client(["core.invoice.read"])
    mint_token()
    mint_token()
    mint_token(cid, secret)
    assert _mints(coupa) == 2
    assert _mints(coupa, cid) == 1


def test_auth_errors_in_xml_for_xml_clients(coupa):
    r = _get(coupa, "nope", accept=None)
    assert r.status_code == 401
    assert r.text.startswith("<?xml")
    assert "<errors><error>" in r.text
