"""`extra_streams`: collections declared in configuration, custom objects first of all.

They are discovered (sampled columns), read with the same paging and state as built-in
streams, and a bad declaration is one sentence before any request.
"""

from __future__ import annotations

import pytest

from tests.tap.conftest import discover, run_cli, run_tap, select, tap_config

SCORECARDS = {
    "name": "vendor_scorecards",
    "path": "/api/custom_objects/7/object_instances",
    "scope": "core.common.read",
    "replication_key": "updated-at",
}
AUDITS = {"name": "audits", "path": "/api/custom_objects/9/object_instances",
          "scope": "core.common.read"}  # fmt: skip


def _truth(coupa, definition: int) -> list[int]:
    rows = coupa.control.records("custom_object_instances")
    return sorted(r["id"] for r in rows if r["object-definition-id"] == definition)


def test_custom_objects_are_discovered_and_read_exactly_once(coupa, config):
    config["extra_streams"] = [SCORECARDS, AUDITS]
    catalog = discover(config)
    entries = {e["tap_stream_id"]: e for e in catalog["streams"]}
    props = entries["vendor_scorecards"]["schema"]["properties"]
    # Sampled, as custom fields are: the instance's own columns, typed.
    assert props["amount"]["type"] == ["string", "null"]
    assert "status" in props
    assert "custom-fields" in props
    assert entries["vendor_scorecards"]["replication_key"] == "updated-at"
    assert entries["audits"].get("replication_key") is None
    run = run_tap(config, catalog=select(catalog, ["vendor_scorecards", "audits"]))
    assert sorted(run.ids("vendor_scorecards")) == _truth(coupa, 7)
    assert sorted(run.ids("audits")) == _truth(coupa, 9)
    assert _truth(coupa, 7)
    assert _truth(coupa, 9)
    assert run.bookmark("vendor_scorecards") is not None
    assert run.bookmark("audits") is None


def test_incremental_extra_stream_resumes_from_its_bookmark(coupa, config):
    config["extra_streams"] = [SCORECARDS]
    catalog = select(discover(config), ["vendor_scorecards"])
    first = run_tap(config, catalog=catalog)
    assert first.ids("vendor_scorecards")
    again = run_tap(config, catalog=catalog, state=first.final_state)
    newest = max(r["updated-at"] for r in first.records("vendor_scorecards"))
    # Only records at the bookmark (gt_or_eq) are read again.
    assert all(r["updated-at"] >= newest for r in again.records("vendor_scorecards"))
    assert len(again.ids("vendor_scorecards")) < len(first.ids("vendor_scorecards"))


def test_extra_streams_get_the_same_retries(coupa, config):
    config["extra_streams"] = [AUDITS]
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/custom_objects/9", "status": 503, "times": 2}]
    )
    run = run_tap(config, catalog=select(discover(config), ["audits"]))
    assert sorted(run.ids("audits")) == _truth(coupa, 9)


def test_declared_sub_resource_and_embedded_array_read_what_built_in_ones_read(coupa, config):
    # The same collections the built-in remit_to_addresses and invoice_line_allocations read,
    # declared in config: one factory builds both kinds, so the rows must be the same.
    config["extra_streams"] = [
        {"name": "supplier_addresses", "parent": "suppliers", "scope": "core.supplier.read",
         "path": "/api/suppliers/{supplier_id}/addresses"},
        {"name": "line_allocations", "parent": "invoices",
         "array": ["invoice-lines", "account-allocations"]},
    ]  # fmt: skip
    catalog = discover(config)
    props = {e["tap_stream_id"]: e["schema"]["properties"] for e in catalog["streams"]}
    assert {"supplier-id"} <= set(props["supplier_addresses"])
    assert {"invoice-id", "invoice-updated-at", "invoice-line-id"} <= set(props["line_allocations"])
    streams = ["supplier_addresses", "remit_to_addresses", "line_allocations",
               "invoice_line_allocations"]  # fmt: skip
    run = run_tap(config, catalog=select(catalog, streams))
    assert run.ids("supplier_addresses")
    assert sorted(run.ids("supplier_addresses")) == sorted(run.ids("remit_to_addresses"))
    assert run.ids("line_allocations")
    assert sorted(run.ids("line_allocations")) == sorted(run.ids("invoice_line_allocations"))
    built_in = {r["id"]: r for r in run.records("invoice_line_allocations")}
    for row in run.records("line_allocations"):
        expected = built_in[row["id"]]
        assert row["invoice-id"] == expected["invoice-id"]
        assert row["invoice-line-id"] == expected["invoice-line-id"]


BAD = [
    ([{**AUDITS, "path": "api/custom_objects/9"}], "has path 'api/custom_objects/9'"),
    ([{**AUDITS, "path": "/api/custom_objects/{id}/object_instances"}], "placeholders"),
    ([AUDITS, AUDITS], "declared twice"),
    ([{**AUDITS, "name": "invoices"}], "is a built-in stream"),
    ([{**AUDITS, "name": "Audits!"}], "lower-case letters"),
    ([{**AUDITS, "scope": "core.common.write"}], "read scope"),
    ([{**AUDITS, "replication_key": "created-at"}], "replication_key 'created-at'"),
    ([{**AUDITS, "primary_key": ["id"]}], "unknown keys primary_key"),
    ([{**AUDITS, "parent": "nowhere", "path": "/api/x/{x_id}/y"}], "has parent 'nowhere'"),
    ([{**AUDITS, "parent": "suppliers"}], "has no {placeholder} for its id"),
    ([{"name": "a", "array": ["invoice-lines"]}], "has `array` but no `parent`"),
    ([{"name": "a", "parent": "invoices", "array": []}], "has array []"),
    (
        [{"name": "a", "parent": "invoices", "array": ["x"], "scope": "core.invoice.read"}],
        "so remove `scope`",
    ),
    (
        [
            {
                "name": "a",
                "parent": "suppliers",
                "path": "/api/suppliers/{supplier_id}/x",
                "scope": "core.supplier.read",
                "replication_key": "updated-at",
            }
        ],
        "leave replication_key out",
    ),
    # `$` in a regex `match` accepts a final newline: each would have reached Coupa.
    ([{**AUDITS, "name": "audits\n"}], "has name 'audits\\n' (it starts or ends with a newline"),
    ([{**AUDITS, "path": AUDITS["path"] + "\n"}], "object_instances\\n' (it starts or ends"),
    ([{**AUDITS, "scope": "core.common.read\n"}], "scope 'core.common.read\\n' (it starts"),
]


@pytest.mark.parametrize(("entries", "needle"), BAD, ids=[n for _, n in BAD])
def test_bad_declaration_is_one_sentence_before_any_request(coupa, tmp_path, entries, needle):
    config = {**tap_config(coupa.base_url), "extra_streams": entries}
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 2, result.stderr  # ExitCode.CONFIG
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert coupa.control.requests_log() == []  # not even the token request


def test_scope_check_covers_extra_and_sub_resource_streams(coupa, oauth_client, tmp_path):
    from tests.test_connection_check import catalog_selecting, lines  # noqa: PLC0415

    client_id, secret = oauth_client(["core.invoice.read"])
    config = tap_config(coupa.base_url, client_id=client_id, client_secret=secret)
    config["extra_streams"] = [SCORECARDS]
    catalog = catalog_selecting(tmp_path, ["vendor_scorecards", "supplier_items", "invoices"])
    result = run_cli(["--catalog", catalog, "--test=scopes"], config, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]  # ExitCode.CONFIG: scopes missing
    report = lines(result.stdout)
    assert report["invoices"][0] == "ok"
    assert report["vendor_scorecards"][:3] == ["MISSING", "vendor_scorecards", "core.common.read"]
    assert report["supplier_items"][:2] == ["MISSING", "supplier_items"]
    assert "core.catalog.read" in report["supplier_items"]  # proven at /api/items, its parent


def test_full_table_extra_stream_resumes_after_kill_9(coupa, tmp_path):
    from tests.tap.test_resume import tap_until_killed  # noqa: PLC0415

    coupa.control.reset(counts={"custom_object_instances": 4000})
    coupa.control.configure(latency_ms=30)
    config = tap_config(coupa.base_url, extra_streams=[AUDITS], max_concurrency=4,
                        max_requests_per_second=40)  # fmt: skip
    catalog = select(discover(config), ["audits"])
    truth = _truth(coupa, 9)
    assert len(truth) > 2000
    killed = tap_until_killed(config, catalog, tmp_path, kill_after=1300, stream="audits")
    first = [m["record"]["id"] for m in killed if m["type"] == "RECORD"]
    states = [m["value"] for m in killed if m["type"] == "STATE"]
    # STATE during the run, at the usual cadence, carrying keyset cursors by id.
    cursors = [s["bookmarks"]["audits"]["backfill"] for s in states if "audits" in s["bookmarks"]]
    assert cursors, "no STATE while the full-table read ran"
    last = states[-1]
    assert last["bookmarks"]["audits"]["backfill"]["ranges"]

    resumed = run_tap(config, catalog=catalog, state=last)
    second = resumed.ids("audits")
    assert set(first) | set(second) == set(truth), "a record was lost"
    assert len(second) == len(set(second))
    assert len(second) < len(truth) - 500, "the resumed run started over"
    assert len(set(first) & set(second)) <= max(1000, len(first) // 10)
    # Completed: no cursors left, so the next run reads the whole table again.
    assert not resumed.final_state["bookmarks"]["audits"]["backfill"]["ranges"]
    again = run_tap(config, catalog=catalog, state=resumed.final_state)
    assert sorted(again.ids("audits")) == truth
    # State written by the previous release (no cursors for a full-table stream) still works.
    old = run_tap(config, catalog=catalog, state={"bookmarks": {"audits": {}}})
    assert sorted(old.ids("audits")) == truth
