"""`tap-coupa --test=scopes` and `target-coupa --test=scopes` against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from coupa_api.exitcodes import ExitCode
from tests.tap.conftest import run_cli, tap_config


def catalog_selecting(tmp_path: Path, streams: list[str]) -> str:
    """A catalog file that selects `streams` (the check reads only the selection metadata)."""
    entries = [
        {"tap_stream_id": name, "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]}
        for name in streams
    ]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"streams": entries}))
    return str(path)


def lines(stdout: str) -> dict[str, list[str]]:
    """Report lines by their label (first column after the status)."""
    found: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in {"ok", "MISSING"}:
            found[parts[1]] = parts
    return found


def api_requests(coupa: Any, since: int) -> list[dict[str, Any]]:
    return [r for r in coupa.control.requests_log()[since:] if r["path"].startswith("/api/")]


def test_tap_check_names_the_stream_and_the_scope_to_grant(coupa, oauth_client, tmp_path):
    client_id, secret = oauth_client(["core.invoice.read", "core.common.read"])
    config = tap_config(coupa.base_url, client_id=client_id, client_secret=secret)
    catalog = catalog_selecting(tmp_path, ["invoices", "invoice_lines", "suppliers"])
    mark = len(coupa.control.requests_log())

    result = run_cli(["--catalog", catalog, "--test=scopes"], config, tmp_path)

    assert result.returncode == ExitCode.CONFIG, result.stderr[-2000:]
    report = lines(result.stdout)
    assert set(report) == {"invoices", "invoice_lines", "suppliers"}
    assert report["invoices"][0] == "ok"
    assert report["invoice_lines"][0] == "ok"
    assert report["suppliers"][:3] == ["MISSING", "suppliers", "core.supplier.read"]
    assert f"Grant core.supplier.read to client '{client_id}'" in result.stdout
    assert secret not in result.stdout + result.stderr
    reads = api_requests(coupa, mark)
    assert {r["path"] for r in reads} == {"/api/invoices"}
    for read in reads:
        query = parse_qs(read["query"])
        assert query["limit"] == ["1"]
        assert json.loads(query["fields"][0]) == ["id"]


def test_tap_check_passes_for_a_client_with_every_scope(coupa, tmp_path):
    config = tap_config(coupa.base_url)
    catalog = catalog_selecting(tmp_path, ["invoices", "suppliers", "users"])

    result = run_cli(["--catalog", catalog, "--test=scopes"], config, tmp_path)

    assert result.returncode == ExitCode.OK, result.stdout + result.stderr[-2000:]
    assert "All 3 checks passed" in result.stdout
    assert {parts[0] for parts in lines(result.stdout).values()} == {"ok"}


def test_target_check_reports_a_missing_write_scope_without_writing(coupa, oauth_client, tmp_path):
    scopes = ["core.invoice.read", "core.invoice.write", "core.supplier.read"]
    scopes += ["core.common.read", "core.accounting.read"]
    client_id, secret = oauth_client(scopes)
    config = tap_config(coupa.base_url, client_id=client_id, client_secret=secret)
    mark = len(coupa.control.requests_log())

    result = run_cli(["--test=scopes"], config, tmp_path, executable="target-coupa")

    assert result.returncode == ExitCode.CONFIG, result.stderr[-2000:]
    missing = [line for line in result.stdout.splitlines() if line.lstrip().startswith("MISSING")]
    assert len(missing) == 1
    assert "create invoices" in missing[0]
    assert "core.invoice.create" in missing[0]
    assert all(r["method"] == "GET" for r in api_requests(coupa, mark))
    assert secret not in result.stdout + result.stderr
