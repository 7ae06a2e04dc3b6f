"""Hardening: dry runs keep bookmarks, interrupted submits finish, poison is dead-lettered."""

from __future__ import annotations

import json
import logging

from coupa_api.exitcodes import ExitCode
from tests.tap.conftest import discover, run_tap, select, tap_config
from tests.target.conftest import (
    dead_letters,
    invoices,
    invoices_numbered,
    new_invoice,
    record_message,
    run_cli,
    run_target,
    schema_message,
    singer_input,
    state_message,
    target_config,
    write_invoices,
)

COPIED = 12


def _tap_output(base_url: str, last_id: int, state: dict | None) -> str:
    config = tap_config(base_url, filters={"invoices": {"id[lt_or_eq]": str(last_id)}})
    run = run_tap(config, catalog=select(discover(config), ["invoices"]), state=state)
    return "".join(json.dumps(m) + "\n" for m in run.messages)


def _last_state(stdout: str) -> dict | None:
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return states[-1] if states else None


def test_look_first_then_write_writes_every_invoice(coupa, second_coupa, tmp_path):
    """README's workflow: a dry run, then a real run resumed from whatever STATE was saved."""
    last_id = coupa.control.records("invoices")[COPIED - 1]["id"]
    config = target_config(second_coupa.base_url, tmp_path)

    saved: dict | None = None  # what Meltano keeps: the target's last STATE, if any
    dry = run_target({**config, "dry_run": True}, _tap_output(coupa.base_url, last_id, saved))
    assert dry.error is None, dry.error
    assert dry.counts == {"created": COPIED}
    assert dry.stdout == ""  # a dry run acknowledges nothing
    saved = _last_state(dry.stdout) or saved

    real = run_target(config, _tap_output(coupa.base_url, last_id, saved))
    assert real.error is None, real.error
    assert real.counts == {"created": COPIED}
    assert len(invoices(second_coupa.control)) == COPIED
    assert _last_state(real.stdout) is not None


def test_dry_run_says_it_emits_no_state(coupa, config, caplog):
    caplog.set_level(logging.INFO)
    run = write_invoices({**config, "dry_run": True}, [new_invoice(coupa.control, "T-DRY-ST")])
    assert run.stdout == ""
    assert "no STATE" in caplog.text


def test_interrupted_submit_is_finished_on_rerun(coupa, config):
    record = new_invoice(coupa.control, "T-SUBMIT-HALF")
    # the first run created the draft and died before submitting it
    assert write_invoices(config, [record]).counts == {"created": 1}
    [draft] = invoices_numbered(coupa.control, "T-SUBMIT-HALF")
    assert draft["status"] == "draft"

    rerun = write_invoices({**config, "submit": True}, [record])
    assert rerun.error is None
    assert rerun.counts == {"submitted": 1}
    [stored] = invoices_numbered(coupa.control, "T-SUBMIT-HALF")
    assert stored["status"] == "pending_approval"
    # and a third run has nothing left to do
    assert write_invoices({**config, "submit": True}, [record]).counts == {"unchanged": 1}


def test_submit_also_finishes_an_updated_draft(coupa, config):
    record = new_invoice(coupa.control, "T-SUBMIT-UPD")
    write_invoices(config, [record])
    record["comments"] = "changed before the rerun"
    rerun = write_invoices({**config, "submit": True}, [record])
    assert rerun.counts == {"updated": 1}
    [stored] = invoices_numbered(coupa.control, "T-SUBMIT-UPD")
    assert stored["status"] == "pending_approval"
    assert stored["comments"] == "changed before the rerun"


def _poison_input(coupa) -> bytes:
    good = new_invoice(coupa.control, "T-POISON-OK")
    surrogate = new_invoice(coupa.control, "T-POISON-SURROGATE", comments="bad \ud800 text")
    no_key = new_invoice(coupa.control, "T-POISON-NOKEY")
    del no_key["invoice-number"]
    lines = [
        json.dumps(schema_message()),
        json.dumps(record_message(surrogate)),  # json.dumps escapes it: "\ud800"
        json.dumps(record_message(no_key)),
        json.dumps({"type": "RECORD", "stream": "invoices", "record": ["not", "an", "object"]}),
        json.dumps({"type": "RECORD", "stream": "invoices", "record": None}),
        json.dumps({"type": "RECORD", "stream": "invoices"}),
    ]
    text = "\n".join(lines) + "\n"
    bad_utf8 = json.dumps(
        record_message(new_invoice(coupa.control, "T-POISON-BYTES", comments="@@"))
    )
    raw = text.encode() + bad_utf8.encode().replace(b"@@", b"\xff\xfe") + b"\n"
    tail = json.dumps(record_message(good)) + "\n" + json.dumps(state_message(7)) + "\n"
    return raw + tail.encode()


def test_poison_records_are_dead_lettered_and_the_run_goes_on(coupa, config, tmp_path):
    (tmp_path / "input.singer").write_bytes(_poison_input(coupa))
    result = run_cli(config, tmp_path, input_text=None)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == ExitCode.REJECTED, result.stderr[-3000:]
    assert "7 records received: 1 created" in result.stderr
    assert "6 rejected" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == state_message(7)["value"]
    assert len(invoices_numbered(coupa.control, "T-POISON-OK")) == 1
    assert invoices_numbered(coupa.control, "T-POISON-SURROGATE") == []
    letters = dead_letters(config)  # the file itself is valid UTF-8 JSON Lines
    assert len(letters) == 6
    by_stage = {d["stage"] for d in letters}
    assert {"text", "key", "message"} <= by_stage
    text = (tmp_path / "dead-letter.jsonl").read_text(encoding="utf-8")
    assert "\\\\ud800" in text or "\\ud800" in text
    assert "\\\\xff" in text


def test_rejected_records_exit_with_the_rejected_code(coupa, config, tmp_path):
    bad = new_invoice(coupa.control, "T-EXIT-3", supplier={"name": "Nobody At All"})
    result = run_cli(config, tmp_path, singer_input([bad]))
    assert result.returncode == ExitCode.REJECTED, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    allowed = run_cli({**config, "allow_failures": True}, tmp_path, singer_input([bad]))
    assert allowed.returncode == ExitCode.OK


def test_dry_run_says_it_would_submit_a_left_over_draft(coupa, config):
    record = new_invoice(coupa.control, "T-SUBMIT-DRY")
    write_invoices(config, [record])
    run = write_invoices({**config, "submit": True, "dry_run": True}, [record])
    assert run.counts == {"submitted": 1}
    [stored] = invoices_numbered(coupa.control, "T-SUBMIT-DRY")
    assert stored["status"] == "draft"  # a dry run writes nothing
