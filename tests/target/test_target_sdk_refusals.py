"""What singer-sdk would refuse before `process_record` rejects one record, never the run.

A record missing a declared key property, a RECORD before its stream's SCHEMA, a RECORD with no
`stream`, a SCHEMA singer-sdk cannot use: each is dead-lettered with its reason and its input
line number, the records around it are written, and the run exits 3. Blank input lines are
skipped, not rejected.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.target.conftest import (
    dead_letters,
    invoices_numbered,
    new_invoice,
    record_message,
    run_cli,
    run_target,
    schema_message,
    state_message,
)


def _lines(*messages: dict[str, Any] | str) -> str:
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)


def test_a_record_missing_its_key_property_is_dead_lettered_and_the_ten_around_it_written(
    coupa, config, tmp_path
):
    control = coupa.control
    good = [new_invoice(control, f"T-KP-{n}") for n in range(10)]
    keyless = new_invoice(control, "T-KP-NOID")
    del keyless["id"]  # the SCHEMA declares key_properties ["id"]
    messages: list[dict[str, Any]] = [schema_message()]
    messages += [record_message(r) for r in good[:5]]
    messages.append(record_message(keyless))  # input line 7
    messages += [record_message(r) for r in good[5:]]
    messages.append(state_message("end"))

    result = run_cli(config, tmp_path, _lines(*messages))

    assert result.returncode == 3, result.stderr[-3000:]  # ExitCode.REJECTED
    assert "Traceback" not in result.stderr
    assert "MissingKeyPropertiesError" not in result.stderr
    assert "11 records received: 10 created" in result.stderr
    assert "1 of 11 records were rejected" in result.stderr
    for n in range(10):
        assert len(invoices_numbered(control, f"T-KP-{n}")) == 1
    assert invoices_numbered(control, "T-KP-NOID") == []
    [letter] = dead_letters(config)
    assert letter["line"] == 7
    assert letter["stage"] == "key"
    assert letter["outcome"] == "rejected"
    assert "`id`" in letter["errors"][0]
    assert "key propert" in letter["errors"][0]
    assert letter["record"]["invoice-number"] == "T-KP-NOID"
    assert json.loads(result.stdout.splitlines()[-1]) == state_message("end")["value"]


def test_every_kind_of_sdk_refusal_is_one_dead_letter_with_its_line(coupa, config):
    control = coupa.control
    no_stream = {"type": "RECORD", "record": new_invoice(control, "T-SDK-NOSTREAM")}
    bad_schema = copy.deepcopy(schema_message("bills"))
    bad_schema["key_properties"] = "id"  # a string, not a list
    text = _lines(
        schema_message(),  # 1
        record_message(new_invoice(control, "T-SDK-1")),  # 2
        record_message(new_invoice(control, "T-SDK-NOSCHEMA"), stream="payments"),  # 3
        no_stream,  # 4
        "",  # 5: blank, skipped
        "   ",  # 6: blank, skipped
        bad_schema,  # 7: refused, with a warning
        record_message(new_invoice(control, "T-SDK-BADSCHEMA"), stream="bills"),  # 8
        record_message(new_invoice(control, "T-SDK-2")),  # 9
        '{"type": "RECORD", "stream": "invoices", "record": ',  # 10: cut short
        record_message(new_invoice(control, "T-SDK-3")),  # 11
        state_message("end"),  # 12
    )

    run = run_target(config, text)

    assert run.counts == {"created": 3, "rejected": 4}, run.counts
    assert run.error is not None
    assert "4 of 7 records were rejected" in str(run.error)
    letters = {d["line"]: d for d in dead_letters(config)}
    assert sorted(letters) == [3, 4, 8, 10]
    assert letters[3]["stream"] == "payments"
    assert "before any SCHEMA" in letters[3]["errors"][0]
    assert "no `stream`" in letters[4]["errors"][0]
    assert letters[4]["record"]["invoice-number"] == "T-SDK-NOSTREAM"
    assert "line 7" in letters[8]["errors"][0]
    assert "key_properties" in letters[8]["errors"][0]
    assert "not valid JSON" in letters[10]["errors"][0]
    assert all(letter["stage"] == "message" for letter in letters.values())
    for number in ("T-SDK-1", "T-SDK-2", "T-SDK-3"):
        assert len(invoices_numbered(control, number)) == 1
    assert run.states == [state_message("end")["value"]]


def test_blank_lines_are_skipped_not_rejected(coupa, config, tmp_path):
    record = new_invoice(coupa.control, "T-BLANK-1")
    text = _lines(schema_message(), "", record_message(record), " \t", "", state_message(1))
    text += "\n\n"  # trailing empty lines too

    result = run_cli(config, tmp_path, text)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 records received: 1 created, 0 updated, 0 unchanged" in result.stderr
    assert "0 rejected" in result.stderr
    assert dead_letters(config) == []
    assert len(invoices_numbered(coupa.control, "T-BLANK-1")) == 1


def test_unknown_message_types_and_a_state_without_value_are_ignored_with_a_warning(
    coupa, config, tmp_path
):
    record = new_invoice(coupa.control, "T-ODD-1")
    text = _lines(
        schema_message(),
        {"type": "HEARTBEAT", "stream": "invoices"},  # 2
        {"type": "STATE"},  # 3: no value
        record_message(record),
        state_message(1),
    )

    result = run_cli(config, tmp_path, text)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert 'Ignored input line 2: a Singer message of unknown type "HEARTBEAT"' in result.stderr
    assert "Ignored input line 3: a STATE message without `value`" in result.stderr
    assert "1 records received: 1 created" in result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [state_message(1)["value"]]
    assert len(invoices_numbered(coupa.control, "T-ODD-1")) == 1


def test_coupa_refusals_carry_their_input_line_too(coupa, config):
    control = coupa.control
    refused = new_invoice(control, "T-LINE-BAD", supplier={"name": "Nobody At All"})
    schema_failure = new_invoice(control, "T-LINE-SCHEMA")
    schema_failure["invoice-lines"] = "not a list"
    text = _lines(
        schema_message(),
        "",
        record_message(new_invoice(control, "T-LINE-OK")),  # 3
        record_message(refused),  # 4: Coupa answers 400
        record_message(schema_failure),  # 5: fails the stream's schema
        state_message(1),
    )
    run = run_target(config, text)
    assert run.counts == {"created": 1, "rejected": 2}
    letters = {d["record"]["invoice-number"]: d for d in dead_letters(config)}
    assert letters["T-LINE-BAD"]["line"] == 4
    assert letters["T-LINE-BAD"]["status"] == 400
    assert letters["T-LINE-SCHEMA"]["line"] == 5
    assert letters["T-LINE-SCHEMA"]["stage"] == "schema"


def test_a_record_a_stream_map_filters_out_is_counted_as_skipped(coupa, config):
    control = coupa.control
    kept = new_invoice(control, "T-MAP-KEEP")
    dropped = new_invoice(control, "T-MAP-DROP")
    mapped = {
        **config,
        "stream_maps": {"invoices": {"__filter__": "record['invoice-number'] != 'T-MAP-DROP'"}},
    }
    text = _lines(schema_message(), record_message(kept), record_message(dropped))
    run = run_target(mapped, text)
    assert run.error is None, run.error
    assert run.counts == {"created": 1, "skipped": 1}
    assert invoices_numbered(control, "T-MAP-DROP") == []
