"""The token request and the first connection: what cannot heal fails at once, with a sentence.

Issue 8 item 3 (no redirects from /oauth2/token), the lesser items (TLS, settle advice) and
issue 10 point 4 (a refused connection at the first request fails within seconds).
"""

from __future__ import annotations

import json
import logging

import pytest

from coupa_api.auth import CoupaOAuth
from coupa_api.errors import CoupaAuthError
from coupa_api.retry import RetryPolicy
from tests.tap.conftest import discover, select, tap_config
from tests.target.conftest import singer_input, target_config
from tests.target.records import invoice_record
from tests.wire.conftest import run_plugin

SECRET = "redirected-secret-must-not-travel"


def test_token_redirect_is_not_followed_and_the_secret_stays(coupa, remote, tmp_path):
    coupa.control.add_client("moved", SECRET, ["core.common.read"])
    coupa.control.add_faults(
        [{"kind": "status", "path": "/oauth2/token", "status": 307, "body": "text", "times": 9,
          "location": f"{remote.origin}/oauth2/token"}]
    )  # fmt: skip
    config = tap_config(coupa.base_url, client_id="moved", client_secret=SECRET)
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert remote.requests == [], "the token form (and its secret) was re-posted"
    assert f"redirect to host {remote.netloc}" in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_refused_connection_at_start_fails_within_seconds(closed_port, tmp_path):
    config = tap_config(f"http://127.0.0.1:{closed_port}", max_retries=8)
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "connection was refused" in result.stderr
    assert "`base_url`" in result.stderr
    assert f"127.0.0.1:{closed_port}" in result.stderr
    # "Within seconds" without a stopwatch: no backoff was slept (each one logs "Retrying").
    assert "Retrying" not in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_connection_for_the_target_too(closed_port, tmp_path):
    config = target_config(f"http://127.0.0.1:{closed_port}", tmp_path)
    result = run_plugin(
        "target-coupa",
        [],
        config,
        tmp_path,
        stdin_text=singer_input([invoice_record()]),
        timeout=60,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Retrying" not in result.stderr
    assert "connection was refused" in result.stderr


def test_untrusted_certificate_is_not_retried(untrusted_https, tmp_path):
    config = tap_config(untrusted_https, max_retries=8)
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "TLS certificate of 127.0.0.1 could not be verified" in result.stderr
    assert "REQUESTS_CA_BUNDLE" in result.stderr
    assert "Retrying" not in result.stderr
    assert "Traceback" not in result.stderr


def test_settle_refusals_name_the_setting_to_raise(coupa, tmp_path):
    config = tap_config(coupa.base_url, token_settle_seconds=0, max_retries=3)
    (tmp_path / "catalog.json").write_text(json.dumps(select(discover(config), ["currencies"])))
    coupa.control.configure(settle_seconds=30)  # far longer than the 0 s the config allows
    args = ["--catalog", str(tmp_path / "catalog.json")]
    result = run_plugin("tap-coupa", args, config, tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line and "401" in line]
    assert errors, result.stderr[-2000:]
    assert all("Raise `token_settle_seconds`" in line for line in errors), errors
    assert not any(line.endswith("Minting a new token and retrying.") for line in errors)


@pytest.mark.parametrize("reached", [False, True], ids=["first-contact", "after-an-answer"])
def test_refused_is_final_only_before_any_answer(closed_port, caplog, reached):
    auth = CoupaOAuth(
        base_url=f"http://127.0.0.1:{closed_port}",
        client_id="c",
        client_secret="refused-secret",
        scopes=[],
        policy=RetryPolicy(max_tries=3, base_seconds=0.05, max_wait_seconds=0.1),
    )
    auth.reached = reached  # as after a token was minted earlier in the run
    with caplog.at_level(logging.WARNING), pytest.raises(CoupaAuthError) as info:
        auth.update_access_token()
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    if reached:
        assert len(retries) == 2  # a restart or failover mid-run: retried as before
        assert "after 3 attempts" in str(info.value)
    else:
        assert retries == []
        assert "connection was refused" in str(info.value)
