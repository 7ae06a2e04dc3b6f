"""A missing write scope stops the run before anything is written, naming the scope."""

from __future__ import annotations

from tests.target.conftest import (
    invoices_numbered,
    new_invoice,
    run_cli,
    singer_input,
    target_config,
    write_invoices,
    writes,
)

READ_ONLY = [
    "core.invoice.read",
    "core.supplier.read",
    "core.common.read",
    "core.accounting.read",
]


def test_client_without_write_scopes_is_stopped_at_the_token(coupa, tmp_path):
    coupa.control.add_client("reader", "reader-secret", READ_ONLY)
    config = target_config(
        coupa.base_url, tmp_path, client_id="reader", client_secret="reader-secret"
    )
    result = run_cli(config, tmp_path, singer_input([new_invoice(coupa.control, "T-SCOPE-1")]))
    assert result.returncode == 1
    assert "core.invoice.write" in result.stderr or "core.invoice.create" in result.stderr
    assert "Traceback" not in result.stderr
    assert writes(coupa.control) == []
    assert result.stdout.strip() == ""  # no STATE: nothing was written


def test_forbidden_update_names_the_missing_scope(coupa, tmp_path):
    """A client that may create but not update: Coupa's 403 on the first PUT stops the run."""
    scopes = [*READ_ONLY, "core.invoice.create"]
    coupa.control.add_client("creator", "creator-secret", scopes)
    config = target_config(
        coupa.base_url, tmp_path, client_id="creator", client_secret="creator-secret",
        scopes=scopes,
    )  # fmt: skip
    record = new_invoice(coupa.control, "T-SCOPE-2")
    assert write_invoices(config, [record]).counts == {"created": 1}
    record["comments"] = "an update needs core.invoice.write"
    run = write_invoices(config, [record])
    assert run.error is not None
    assert "core.invoice.write" in str(run.error)
    assert run.states == []
    [stored] = invoices_numbered(coupa.control, "T-SCOPE-2")
    assert stored["comments"] != record["comments"]
