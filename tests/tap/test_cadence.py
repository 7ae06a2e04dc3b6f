"""Line, nested-array and sub-resource streams follow the run's STATE cadence.

singer-sdk writes a STATE at the end of every child sync: once per parent page for line
streams, once per parent record for sub-resources. Their state goes out with the parent's
instead (tap_coupa.checkpoints), so selecting them does not multiply STATE messages.
"""

from __future__ import annotations

import pytest

from tap_coupa import checkpoints
from tests.tap.conftest import discover, run_tap, select


@pytest.fixture
def by_count_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cadence by records only: a loaded machine must not add time-based STATEs."""
    monkeypatch.setattr(checkpoints, "STATE_EVERY_SECONDS", 1e9)


@pytest.mark.usefixtures("by_count_only")
def test_line_streams_add_no_state_messages(coupa, config):
    coupa.control.reset(counts={"invoices": 400})
    catalog = discover(config)
    alone = run_tap(config, catalog=select(catalog, ["invoices"]))
    lines = ["invoices", "invoice_lines", "invoice_line_allocations", "invoice_tax_lines"]
    with_lines = run_tap(config, catalog=select(catalog, lines))
    assert with_lines.records("invoice_lines"), "the emulator's invoices have lines"
    assert with_lines.records("invoice_line_allocations")
    # 400 invoices: 8 pages; before, each page's lines ended with a STATE of their own (+8 or
    # more where 3 are expected), so 8 pages tell the two apart as well as 30 did.
    assert len(with_lines.states) == len(alone.states) + len(lines) - 1
    assert len(alone.states) <= 4
    # The lines' bookmarks still reach the last STATE.
    final = with_lines.final_state["bookmarks"]
    for name in lines:
        assert final[name].get("replication_key_value"), name


@pytest.mark.usefixtures("by_count_only")
def test_sub_resource_streams_add_no_state_messages(coupa, config):
    coupa.control.reset(counts={"suppliers": 60})
    catalog = discover(config)
    alone = run_tap(config, catalog=select(catalog, ["suppliers"]))
    both = run_tap(config, catalog=select(catalog, ["suppliers", "remit_to_addresses"]))
    assert both.records("remit_to_addresses")
    # Before: one STATE per supplier read (60).
    assert len(both.states) <= len(alone.states) + 1
