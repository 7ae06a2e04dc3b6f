"""429/5xx storms and dropped connections during writes: retried via a lookup, never duplicated."""

from __future__ import annotations

import copy

import pytest

from target_coupa.writer import WriteAbortedError
from tests.target.conftest import (
    dead_letters,
    invoices_numbered,
    new_invoice,
    write_invoices,
    writes,
)


def test_post_503_then_dropped_connection_creates_exactly_once(coupa, config):
    coupa.control.add_faults(
        [
            {"kind": "status", "path": "/api/invoices", "method": "POST", "status": 503,
             "body": "html", "times": 2},
            # the third POST is processed by the emulator but its answer never arrives
            {"kind": "drop", "path": "/api/invoices", "method": "POST", "after": 0, "times": 1},
        ]
    )  # fmt: skip
    record = new_invoice(coupa.control, "T-STORM-1")
    run = write_invoices(config, [record])
    assert run.error is None
    assert run.counts == {"created": 1}
    assert len(invoices_numbered(coupa.control, "T-STORM-1")) == 1
    posts = [w for w in writes(coupa.control) if w["method"] == "POST"]
    assert len(posts) >= 3
    # after every failed POST the target looked the invoice up before anything else
    log = coupa.control.requests_log()
    for i, entry in enumerate(log):
        if entry["method"] == "POST" and entry["status"] != 201 and i + 1 < len(log):
            assert log[i + 1]["method"] == "GET", log[i : i + 2]


def test_dropped_put_does_not_add_the_new_line_twice(coupa, config):
    record = new_invoice(coupa.control, "T-STORM-PUT")
    write_invoices(config, [record])
    changed = copy.deepcopy(record)
    extra = copy.deepcopy(changed["invoice-lines"][0])
    extra.pop("id")
    extra.update({"line-num": 50, "description": "added under a storm"})
    changed["invoice-lines"].append(extra)
    coupa.control.add_faults(
        [{"kind": "drop", "path": "/api/invoices/", "method": "PUT", "times": 1}]
    )
    run = write_invoices(config, [changed])
    assert run.error is None
    assert run.counts == {"updated": 1}
    [stored] = invoices_numbered(coupa.control, "T-STORM-PUT")
    descriptions = [line["description"] for line in stored["invoice-lines"]]
    assert descriptions.count("added under a storm") == 1
    assert len(stored["invoice-lines"]) == len(changed["invoice-lines"])


def test_rate_limit_storm_writes_every_invoice_once(coupa, config):
    coupa.control.configure(rate_limit=5, burst=2, retry_after=None)
    records = [new_invoice(coupa.control, f"T-429-{n}") for n in range(8)]
    run = write_invoices({**config, "max_retries": 12}, records)
    assert run.error is None
    assert run.counts == {"created": 8}
    for n in range(8):
        assert len(invoices_numbered(coupa.control, f"T-429-{n}")) == 1
    assert coupa.control.stats()["status_counts"].get("429", 0) > 0


def test_write_budget_exhausted_stops_the_run_without_acknowledging(coupa, config):
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "method": "POST", "status": 503,
          "times": 50}]
    )  # fmt: skip
    first = new_invoice(coupa.control, "T-GIVEUP-1")
    run = write_invoices({**config, "max_retries": 2}, [first])
    assert run.error is not None
    assert "giving up" in str(run.error)
    assert "`max_retries` (2)" in str(run.error), run.error
    assert run.states == []  # the STATE after the unwritten record was never emitted
    assert invoices_numbered(coupa.control, "T-GIVEUP-1") == []


def test_a_refused_look_up_after_a_lost_answer_stops_instead_of_rejecting(coupa, config):
    """Found by the chaos soak (seed 2190): the POST landed, its answer was cut, the look-up got
    a 4xx; the record was dead-lettered as rejected although Coupa held it."""
    coupa.control.add_faults(
        [
            {"kind": "truncate", "path": "/api/invoices", "method": "POST", "times": 1},
            # the batched look-up before the POST passes; the one after the lost answer is refused
            {"kind": "status", "path": "/api/invoices", "method": "GET", "status": 422,
             "body": "json", "after": 1, "times": 30},
        ]
    )  # fmt: skip
    record = new_invoice(coupa.control, "T-LOST-LOOKUP")
    run = write_invoices(config, [record])
    assert run.error is not None
    assert "got no clean answer" in str(run.error)
    assert "T-LOST-LOOKUP" in str(run.error)
    assert dead_letters(config) == []  # not called rejected: Coupa holds it
    assert run.states == []  # nothing acknowledged
    assert len(invoices_numbered(coupa.control, "T-LOST-LOOKUP")) == 1
    coupa.control.clear_faults()
    again = write_invoices(config, [record])
    assert again.error is None
    assert again.counts == {"unchanged": 1}
    assert len(invoices_numbered(coupa.control, "T-LOST-LOOKUP")) == 1


def test_look_ups_that_stay_unreachable_stop_with_one_sentence(coupa, config, tmp_path):
    """Found by the chaos soak (seed 2292): dropped connections on the batched look-up past the
    retry budget printed "A write worker failed unexpectedly" and a traceback."""
    from tests.target.conftest import run_cli, singer_input  # noqa: PLC0415

    coupa.control.add_faults(
        [{"kind": "drop", "path": "/api/invoices", "method": "GET", "times": 50}]
    )
    record = new_invoice(coupa.control, "T-LOOKUP-DROPS")
    result = run_cli({**config, "max_retries": 2}, tmp_path, singer_input([record]))
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "failed unexpectedly" not in result.stderr
    assert "stayed unreachable while looking up 1 invoice(s)" in result.stderr
    assert result.stdout.strip() == ""  # nothing acknowledged
    assert invoices_numbered(coupa.control, "T-LOOKUP-DROPS") == []


@pytest.mark.timeout(90)
def test_a_write_given_up_on_a_long_retry_after_names_max_retry_seconds(coupa, config):
    """A POST answered 429 with an hour's Retry-After: one sentence naming the setting to raise."""
    config.update(max_retry_seconds=2, max_retries=8)
    record = new_invoice(coupa.control, "T-429-LONG")
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "method": "POST", "status": 429,
          "times": 99, "retry_after": 3600}]
    )  # fmt: skip
    run = write_invoices(config, [record])
    assert isinstance(run.error, WriteAbortedError), run.error
    message = str(run.error)
    assert "`max_retry_seconds` (2 s)" in message, message
    assert "Retry-After: 3600" in message, message
    assert "429" in message, message
    assert "T-429-LONG" in message, message
    assert "run again to resume" in message, message
    assert invoices_numbered(coupa.control, "T-429-LONG") == []
    assert run.states == []  # nothing acknowledged
