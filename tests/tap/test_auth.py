"""One shared token, minted with the least scopes, settled before use, renewed when needed."""

from __future__ import annotations

import pytest

from coupa_api.errors import CoupaAuthError, CoupaScopeError
from tests.tap.conftest import discover, run_cli, run_tap, select, tap_config


def mints(coupa, client="demo"):
    return coupa.control.stats()["token_mints"].get(client, 0)


def test_one_token_for_all_streams(coupa, config):
    run = run_tap(config)
    assert len(run.counts) > 10
    assert mints(coupa) == 1


def test_scopes_derived_from_selected_streams(coupa, config):
    coupa.control.add_client("narrow", "narrow-secret", ["core.invoice.read"])
    narrow = tap_config(coupa.base_url, client_id="narrow", client_secret="narrow-secret")
    catalog = select(discover(config), ["invoices", "invoice_lines"])
    run = run_tap(narrow, catalog=catalog)
    assert run.counts["invoices"] == len(coupa.control.records("invoices"))
    assert run.counts["invoice_lines"] > 0


def test_settle_window_is_respected(coupa, config):
    coupa.control.configure(settle_seconds=1.5)
    config["token_settle_seconds"] = 1.5
    catalog = select(discover(config), ["currencies"])
    run_tap(config, catalog=catalog)
    statuses = [r["status"] for r in coupa.control.requests_log() if r["path"].startswith("/api/")]
    assert 401 not in statuses


def test_unsettled_token_is_waited_out_not_reminted(coupa, config):
    """Configured too impatient (settle 0 against a 1 s window): wait, do not mint a storm."""
    catalog = select(discover(config), ["currencies"])
    coupa.control.reset()
    coupa.control.configure(settle_seconds=1.0)
    run = run_tap(config, catalog=catalog)
    assert run.counts["currencies"] == len(coupa.control.records("currencies"))
    assert mints(coupa) == 1


def test_token_expiry_mid_sync_is_renewed_ahead(coupa, config):
    catalog = select(discover(config), ["invoices"])
    # 7 pages at 400 ms each, one at a time, outlive a 3 s token (refreshed with a 1.5 s
    # margin); concurrent id ranges would read them all in about three round trips.
    config["max_concurrency"] = 1
    coupa.control.reset(counts={"invoices": 300}, expires_in=3, latency_ms=400)
    run = run_tap(config, catalog=catalog)
    assert run.counts["invoices"] == 300
    assert mints(coupa) >= 2
    statuses = [r["status"] for r in coupa.control.requests_log() if r["path"] == "/api/invoices"]
    assert 401 not in statuses  # renewed before expiry, not after a refusal


def test_revoked_token_is_reminted_once_and_the_request_retried(coupa, config):
    catalog = select(discover(config), ["invoices"])
    # The 401 comes ~3 s after minting: an old token, so it is dropped and re-minted at once.
    coupa.control.reset(counts={"invoices": 200}, latency_ms=1000)
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "after": 3, "status": 401, "body": "json"}]
    )
    run = run_tap(config, catalog=catalog)
    assert sorted(run.ids("invoices")) == sorted(r["id"] for r in coupa.control.records("invoices"))
    assert mints(coupa) == 2
    statuses = [r["status"] for r in coupa.control.requests_log() if r["path"] == "/api/invoices"]
    assert statuses.count(401) == 1


def test_young_token_refused_is_given_time_before_reminting(coupa, config):
    """A 401 right after minting is usually an unsettled token: wait, then re-mint if needed."""
    catalog = select(discover(config), ["invoices"])
    coupa.control.reset(counts={"invoices": 60})
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "times": 3, "status": 401, "body": "json"}]
    )
    run = run_tap(config, catalog=catalog)
    assert run.counts["invoices"] == 60
    assert mints(coupa) <= 2


def test_missing_scope_names_stream_and_scope(coupa, config):
    coupa.control.add_client("noinv", "noinv-secret", ["core.invoice.read"])
    catalog = select(discover(config), ["suppliers"])
    # `scopes` pinned to what the client has: the token works, but not for suppliers (403).
    bad = tap_config(
        coupa.base_url,
        client_id="noinv",
        client_secret="noinv-secret",
        scopes=["core.invoice.read"],
    )
    with pytest.raises(CoupaScopeError) as info:
        run_tap(bad, catalog=catalog)
    message = str(info.value)
    assert "suppliers" in message
    assert "core.supplier.read" in message
    assert "noinv" in message


def test_invalid_scope_at_token_endpoint_names_what_to_grant(coupa, config, tmp_path):
    coupa.control.add_client("inv", "inv-secret", ["core.invoice.read"])
    catalog = select(discover(config), ["invoices", "suppliers"])
    cfg = tap_config(coupa.base_url, client_id="inv", client_secret="inv-secret")
    with pytest.raises(CoupaAuthError) as info:
        run_tap(cfg, catalog=catalog)
    message = str(info.value)
    assert "core.supplier.read" in message
    assert "Setup > Integrations" in message


def test_bad_secret_is_a_sentence_not_a_traceback(coupa, tmp_path):
    cfg = tap_config(coupa.base_url, client_secret="wrong-secret-value")
    result = run_cli(["--discover"], cfg, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "client_secret" in result.stderr
    assert "wrong-secret-value" not in result.stderr + result.stdout


def test_discovery_says_once_that_it_waits_and_that_it_finished(coupa, tmp_path):
    """Eight discovery threads wait for one token: one line says so; one final line."""
    coupa.control.configure(settle_seconds=1)
    config = tap_config(coupa.base_url, token_settle_seconds=1)
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert sum("for the new Coupa token to settle" in line for line in lines) == 1
    finals = [line for line in lines if "tap-coupa finished:" in line]
    # Meltano runs discovery before the sync: "completed" belongs to the sync's line only.
    assert len(finals) == 1
    assert finals[0].endswith("tap-coupa finished: catalog written (exit 0)")
