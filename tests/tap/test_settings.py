"""Bad settings get one clear sentence each, before any request; good ones are accepted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coupa_api.settings import connection_problems, normalize_base_url
from tests.tap.conftest import run_cli, tap_config

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
