"""Bad settings get one clear sentence each, before any request; good ones are accepted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coupa_api.settings import connection_problems, normalize_base_url
from tests.tap.conftest import discover, run_cli, select, tap_config

BAD = [
    ({"base_url": "http://acme.coupahost.com"}, "plain http"),
    ({"base_url": "acme"}, "is not a URL"),
    ({"base_url": "https://acme.coupahost.com/api/invoices"}, "has a path"),
    ({"client_secret": " "}, "`client_secret` is empty"),
    ({"scopes": ["invoices"]}, "is not a Coupa scope"),
    ({"start_date": "last tuesday"}, "`start_date`"),
    ({"lookback_window": -5}, "`lookback_window`"),
    ({"filters": {"invoicez": {"status": "approved"}}}, "does not have"),
    ({"filters": {"invoices": {"order_by": "id"}}}, "which the tap controls"),
    ({"filters": {"invoices": {"status[like]": "a"}}}, "[like]"),
]


@pytest.mark.parametrize(("override", "needle"), BAD, ids=[n for _, n in BAD])
def test_bad_setting_is_named(coupa, tmp_path, override, needle):
    config = {**tap_config(coupa.base_url), **override}
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 2  # ExitCode.CONFIG
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing was sent to Coupa with a config that cannot work.
    assert coupa.control.stats()["token_mints"].get("demo", 0) == 0


def test_several_problems_are_reported_together(coupa, tmp_path):
    config = {**tap_config(coupa.base_url), "base_url": "ftp://x", "lookback_window": -1}
    result = run_cli(["--discover"], config, tmp_path)
    assert "`base_url`" in result.stderr
    assert "`lookback_window`" in result.stderr


def test_instance_url_variants_are_normalised():

    assert normalize_base_url("https://acme.coupahost.com/api/") == "https://acme.coupahost.com"
    for url in (
        "https://acme.coupahost.com",
        "https://acme-test.coupahost.com",
        "https://partner.coupacloud.com",
        "https://procurement.example.com",
        "http://127.0.0.1:8080",
        "http://localhost:1",
    ):
        assert connection_problems({"base_url": url, "client_id": "a", "client_secret": "b"}) == []


def test_about_lists_every_setting():

    exe = str(Path(sys.executable).parent / "tap-coupa")
    out = subprocess.run(  # noqa: S603 - our own console script
        [exe, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    settings = json.loads(out.stdout)["settings"]["properties"]
    for name in (
        "base_url", "client_id", "client_secret", "scopes", "start_date", "lookback_window",
        "request_timeout", "token_settle_seconds", "filters", "max_requests_per_second",
    ):  # fmt: skip
        assert name in settings
    assert settings["client_secret"].get("secret") is True


def test_unresolvable_host_fails_at_once_with_a_sentence(tmp_path):
    config = tap_config("https://no-such-instance.invalid")
    result = run_cli(["--discover"], config, tmp_path, timeout=30)
    assert result.returncode == 1
    assert "Cannot resolve no-such-instance.invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Retrying" not in result.stderr


@pytest.mark.parametrize("content", [None, "{not json"], ids=["missing", "malformed"])
def test_bad_config_file_is_a_sentence(tmp_path, content):
    path = tmp_path / "given.json"
    if content is not None:
        path.write_text(content)
    exe = str(Path(sys.executable).parent / "tap-coupa")
    result = subprocess.run(  # noqa: S603 - our own console script
        [exe, "--config", str(path), "--discover"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2  # ExitCode.CONFIG
    assert "Traceback" not in result.stderr
    assert "--config" in result.stderr


def test_fractional_numbers_from_a_config_file_are_accepted(coupa: Any, tmp_path: Path) -> None:
    """singer-sdk reads config files with Decimal numbers: 0.5 s is a number, not a problem."""
    config = tap_config(
        coupa.base_url,
        token_settle_seconds=0.5,
        max_requests_per_second=12.5,
    )
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-1500:]
    assert "Setting problem" not in result.stderr


# -- the input state and catalog (issue 15 item 4, issue 14 "malformed --state or --catalog") --
def _sync(
    tmp_path: Path, config: dict[str, Any], catalog: dict[str, Any], state: Any = None
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ["--catalog", str(tmp_path / "catalog.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    result = run_cli(args, config, tmp_path)
    messages = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result, messages


def _records(messages: list[dict[str, Any]], stream: str) -> int:
    return sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == stream)


def _final_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def test_meltano_wrapped_state_is_unwrapped_and_used(coupa: Any, tmp_path: Path) -> None:
    """What `meltano state get` prints, given to --state: read, said so, not ignored."""
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["suppliers"])
    first, messages = _sync(tmp_path, config, catalog)
    assert first.returncode == 0, first.stderr[-2000:]
    full = _records(messages, "suppliers")
    wrapped = {"singer_state": _final_state(messages)}
    again, messages = _sync(tmp_path, config, catalog, wrapped)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Meltano's wrapped form" in again.stderr
    assert _records(messages, "suppliers") < full  # the bookmark was used
    assert "singer_state" not in _final_state(messages)


def test_another_taps_bookmarks_are_named_once_and_dropped(coupa: Any, tmp_path: Path) -> None:
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["currencies", "suppliers"])
    state = {
        "bookmarks": {
            "github_issues": {"replication_key": "updated_at", "replication_key_value": "x"},
            "suppliers": {
                "replication_key": "created_at",
                "replication_key_value": "2099-01-01T00:00:00Z",
            },
        }
    }
    result, messages = _sync(tmp_path, config, catalog, state)
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [x for x in result.stderr.splitlines() if "did not write" in x]
    assert len(warnings) == 1, result.stderr[-2000:]
    assert "github_issues" in warnings[0]
    assert "suppliers (bookmarked on 'created_at', tap-coupa uses 'updated-at')" in warnings[0]
    assert _records(messages, "suppliers") == len(coupa.control.records("suppliers"))
    for message in messages:
        if message["type"] == "STATE":
            bookmarks = message["value"].get("bookmarks", {})
            assert "github_issues" not in bookmarks
            assert bookmarks.get("suppliers", {}).get("replication_key") != "created_at"


def test_this_taps_own_state_gets_no_warning(coupa: Any, tmp_path: Path) -> None:
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["suppliers", "currencies"])
    _, messages = _sync(tmp_path, config, catalog)
    result, _ = _sync(tmp_path, config, catalog, _final_state(messages))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "did not write" not in result.stderr


def test_a_catalog_that_selects_nothing_is_warned_about(coupa: Any, tmp_path: Path) -> None:
    config = tap_config(coupa.base_url)
    result, messages = _sync(tmp_path, config, select(discover(config), []))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "The catalog selects no stream" in result.stderr
    assert not [m for m in messages if m["type"] == "RECORD"]


MALFORMED = [
    ("--state", {"bookmarks": []}, "`bookmarks` is a list"),
    ("--state", {"singer_state": {"bookmarks": "x"}}, "`bookmarks` is a string"),
    ("--state", {"bookmarks": {"invoices": 5}}, "bookmark of stream 'invoices' is a number"),
    ("--state", {"bookmarks": {"invoices": {"partitions": {}}}}, "`partitions`"),
    ("--catalog", {"streams": {}}, "`streams` is an object"),
    ("--catalog", {"streams": [{"schema": {}}]}, "has no `tap_stream_id`"),
    ("--catalog", {"streams": ["invoices"]}, "is a string, not a stream entry"),
    ("--catalog", {"streams": [{"tap_stream_id": "x", "metadata": [{}]}]}, "`breadcrumb`"),
    ("--catalog", {"streams": [{"tap_stream_id": "x", "schema": []}]}, "`schema` is a list"),
]


@pytest.mark.parametrize(("option", "content", "needle"), MALFORMED)
def test_a_state_or_catalog_of_the_wrong_shape_is_one_sentence_and_exit_2(
    coupa: Any, tmp_path: Path, option: str, content: Any, needle: str
) -> None:
    path = tmp_path / "given.json"
    path.write_text(json.dumps(content))
    result = run_cli([option, str(path)], tap_config(coupa.base_url), tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert coupa.control.stats()["token_mints"].get("demo", 0) == 0


#: `$` under Python's `re.match` accepts a final newline: each of these passed validation once and
#: reached Coupa (a scope in the token form, a filter key or a path in the URL, a table name).
AUDITS = {"name": "audits", "path": "/api/custom_objects/9/object_instances",
          "scope": "core.common.read"}  # fmt: skip
TRAILING_NEWLINE = [
    ({"scopes": ["core.invoice.read\n"]}, "'core.invoice.read\\n' (it starts or ends"),
    ({"filters": {"invoices": {"status\n": "approved"}}}, "'status\\n' (it starts or ends"),
    ({"extra_streams": [{**AUDITS, "name": "audits\n"}]}, "has name 'audits\\n' (it starts"),
    ({"extra_streams": [{**AUDITS, "path": AUDITS["path"] + "\n"}]}, "instances\\n' (it starts"),
    ({"extra_streams": [{**AUDITS, "scope": "core.common.read\n"}]}, "read\\n' (it starts"),
]


@pytest.mark.parametrize(
    ("override", "needle"), TRAILING_NEWLINE, ids=["scope", "filter", "name", "path", "xscope"]
)
def test_a_value_ending_in_a_newline_is_refused_before_any_request(
    coupa: Any, tmp_path: Path, override: dict[str, Any], needle: str
) -> None:
    config = {**tap_config(coupa.base_url), **override}
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]  # ExitCode.CONFIG
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    assert sum(needle in line for line in errors) == 1, errors
    assert "Traceback" not in result.stderr
    assert coupa.control.requests_log() == []  # not even the token request
