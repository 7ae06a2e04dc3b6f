"""The client secret and the tokens never reach stdout, stderr, the catalog or the state."""

from __future__ import annotations

import json

from tests.tap.conftest import discover, run_cli, run_tap, select, tap_config


def test_no_secret_in_any_output(coupa, tmp_path):

    secret = "s3cr3t-Value-Nobody-Should-See"
    coupa.control.add_client("ops", secret, ["core.invoice.read", "core.common.read"])
    config = tap_config(coupa.base_url, client_id="ops", client_secret=secret)
    # Force a 401 re-mint, a retry and a 403 along the way, so error paths print too.
    discovered = run_cli(["--discover"], config, tmp_path)
    catalog = select(json.loads(discovered.stdout), ["invoices", "currencies"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    coupa.control.add_faults(
        [
            {"kind": "status", "path": "/api/invoices", "status": 401, "body": "json"},
            {"kind": "status", "path": "/api/currencies", "status": 503, "body": "html"},
        ]
    )
    synced = run_cli(["--catalog", str(tmp_path / "catalog.json")], config, tmp_path)
    assert synced.returncode == 0, synced.stderr[-2000:]

    outputs = discovered.stdout + discovered.stderr + synced.stdout + synced.stderr
    assert secret not in outputs
    assert "eyJ" not in outputs  # no JWT-shaped token (base64 of '{"')


def test_catalog_and_state_carry_no_secret(coupa, config):

    catalog = discover(config)
    run = run_tap(config, catalog=select(catalog, ["invoices"]))
    blob = json.dumps(catalog) + json.dumps(run.states)
    assert config["client_secret"] not in blob
