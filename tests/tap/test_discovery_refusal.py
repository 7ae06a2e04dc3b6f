"""A token refusal during concurrent discovery is final: the secret is posted once."""

from __future__ import annotations

from typing import Any

import pytest

from coupa_api.errors import CoupaAuthError
from tests.tap.conftest import discover, tap_config


def test_refused_scope_posts_the_secret_once(coupa: Any) -> None:
    config = tap_config(coupa.base_url, scopes=["core.bogus.read"])
    with pytest.raises(CoupaAuthError, match="scopes"):
        discover(config)
    token_posts = [e for e in coupa.control.requests_log() if e.get("path") == "/oauth2/token"]
    assert len(token_posts) == 1


def test_wrong_secret_posts_once(coupa: Any) -> None:
    config = tap_config(coupa.base_url, client_secret="not-the-secret")
    with pytest.raises(CoupaAuthError, match="client_secret"):
        discover(config)
    token_posts = [e for e in coupa.control.requests_log() if e.get("path") == "/oauth2/token"]
    assert len(token_posts) == 1
