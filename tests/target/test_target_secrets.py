"""The client secret and tokens never reach stdout, stderr or the dead-letter file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.target.conftest import new_invoice, run_cli, singer_input, target_config


def test_no_secret_in_any_output(coupa, tmp_path):
    secret = "s3cr3t-Target-Value-Nobody-Should-See"
    coupa.control.add_client(
        "writer",
        secret,
        [
            "core.invoice.read", "core.invoice.write", "core.invoice.create",
            "core.supplier.read", "core.common.read", "core.accounting.read",
        ],
    )  # fmt: skip
    config = target_config(coupa.base_url, tmp_path, client_id="writer", client_secret=secret)
    good = new_invoice(coupa.control, "T-SECRET-1")
    bad = copy.deepcopy(good)
    bad["invoice-number"] = "T-SECRET-2"
    bad["supplier"] = {"name": "Nobody At All"}
    # a 401 (re-mint), a 503 and a rejected record, so the error paths print too
    coupa.control.add_faults(
        [
            {"kind": "status", "path": "/api/invoices", "method": "GET", "status": 401,
             "body": "json"},
            {"kind": "status", "path": "/api/invoices", "method": "POST", "status": 503,
             "body": "html"},
        ]
    )  # fmt: skip
    result = run_cli(config, tmp_path, singer_input([good, bad]))
    assert result.returncode == 3, result.stderr[-3000:]  # ExitCode.REJECTED
    assert "1 created" in result.stderr
    dead = Path(config["dead_letter_path"]).read_text()
    outputs = result.stdout + result.stderr + dead + json.dumps(config["dead_letter_path"])
    assert secret not in outputs
    assert "eyJ" not in outputs  # no JWT-shaped token
    assert "Bearer " not in result.stderr
