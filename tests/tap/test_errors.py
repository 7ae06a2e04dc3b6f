"""429, 5xx, XML, HTML and truncated bodies, dropped connections: retried or explained."""

from __future__ import annotations

import json

import pytest

from coupa_api.errors import CoupaFatalError
from tests.tap.conftest import discover, run_cli, run_tap, select


@pytest.fixture
def invoices(coupa, config):
    catalog = select(discover(config), ["invoices"])
    coupa.control.reset(counts={"invoices": 120})
    return catalog


def assert_complete(coupa, run):
    assert sorted(run.ids("invoices")) == sorted(r["id"] for r in coupa.control.records("invoices"))


FAULTS = {
    "503_html": {"kind": "status", "status": 503, "body": "html"},
    "500_json": {"kind": "status", "status": 500, "body": "json"},
    "502_text": {"kind": "status", "status": 502, "body": "text"},
    "429_no_retry_after": {"kind": "status", "status": 429, "body": "json"},
    "429_retry_after": {"kind": "status", "status": 429, "body": "json", "retry_after": 1},
    "200_xml_body": {"kind": "status", "status": 200, "body": "xml"},
    "200_html_body": {"kind": "status", "status": 200, "body": "html"},
    "truncated_json": {"kind": "truncate"},
    "dropped_connection": {"kind": "drop"},
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_transient_faults_are_retried(coupa, config, invoices, name):
    rule = {"path": "/api/invoices", "after": 1, "times": 2, **FAULTS[name]}
    coupa.control.add_faults([rule])
    run = run_tap(config, catalog=invoices)
    assert_complete(coupa, run)


def test_retry_after_is_honoured(coupa, config, invoices):
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "after": 1, "status": 429, "retry_after": 2}]
    )
    run = run_tap(config, catalog=invoices)
    assert_complete(coupa, run)
    # By the emulator's clock: the refused page is asked again only after the 2 s it was told.
    log = [r for r in coupa.control.requests_log() if r["path"] == "/api/invoices"]
    at = next(i for i, r in enumerate(log) if r["status"] == 429)
    refused = log[at]
    retried = next(r for r in log[at + 1 :] if r["query"] == refused["query"])
    assert retried["arrived"] - refused["time"] >= 2, (refused, retried)


def test_emulator_rate_limit_is_survived(coupa, config, invoices):
    coupa.control.configure(rate_limit=10, burst=2, retry_after=None)
    run = run_tap(config, catalog=invoices)
    assert_complete(coupa, run)


def test_client_side_limiter_avoids_429(coupa, config):
    catalog = select(discover(config), ["currencies", "departments", "uoms", "payment_terms"])
    # A server burst in Coupa's proportion (20 at 25/s, so 8 at 10/s): the run now starts with
    # one check per selected collection (tap_coupa.tenant), 8 requests in its first second.
    coupa.control.configure(rate_limit=10, burst=8)
    config["max_requests_per_second"] = 8
    run_tap(config, catalog=catalog)
    statuses = [r["status"] for r in coupa.control.requests_log() if r["path"].startswith("/api/")]
    assert 429 not in statuses


def test_slow_response_past_the_timeout_is_retried(coupa, config, invoices):
    config["request_timeout"] = 1
    coupa.control.add_faults(
        [{"kind": "slow", "path": "/api/invoices", "after": 1, "delay_s": 2.5}]
    )
    run = run_tap(config, catalog=invoices)
    assert_complete(coupa, run)


def test_persistent_failure_is_explained(coupa, config, invoices, tmp_path):

    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "times": 99, "status": 503, "body": "html"}]
    )
    config["max_retries"] = 2
    (tmp_path / "catalog.json").write_text(json.dumps(invoices))
    result = run_cli(["--catalog", str(tmp_path / "catalog.json")], config, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "503" in result.stderr
    assert "html" in result.stderr.lower()


def test_validation_error_is_fatal_with_coupas_message(coupa, config, invoices):
    config["filters"] = {"invoices": {"no-such-attribute": "x"}}
    with pytest.raises(CoupaFatalError) as info:
        run_tap(config, catalog=invoices)
    assert info.value.status == 400
