"""Records inserted and updated while a long sync runs: no skips, no duplicates."""

from __future__ import annotations

from tests.tap.conftest import discover, run_tap, select


def test_mutation_during_sync(coupa, config):
    coupa.control.reset(counts={"invoices": 400})
    catalog = select(discover(config), ["invoices"])
    before = {r["id"] for r in coupa.control.records("invoices")}
    # After 3 pages: 40 records updated (their updated-at jumps) and 25 inserted.
    coupa.control.add_mutation(after_requests=3, resource="invoices", update=40, insert=25)
    run = run_tap(config, catalog=catalog)
    got = run.ids("invoices")
    assert len(got) == len(set(got)), "a record arrived twice"
    assert before <= set(got), "a record that existed at the start was skipped"
    after = {r["id"] for r in coupa.control.records("invoices")}
    assert set(got) <= after
    # Inserted records get higher ids, so the keyset cursor reaches them in this same run.
    assert set(got) == after

    # The next run picks up the updated ones (their updated-at is after this run's start).
    second = run_tap(config, catalog=catalog, state=run.final_state)
    assert len(second.ids("invoices")) >= 40
