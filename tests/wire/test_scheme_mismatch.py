"""A TLS protocol mismatch fails at once with a sentence that names the other scheme.

Issue 15 item 5: https:// against a plain-HTTP port retried for 98 s (OpenSSL's
WRONG_VERSION_NUMBER looked transient). Now it is classified with DNS and certificate errors
(coupa_api.retry), for tap and target alike; so is http:// against a port that speaks TLS,
whether its server hangs up without a byte or resets the connection (both happen, by timing).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tap.conftest import tap_config
from tests.target.conftest import singer_input, target_config
from tests.target.records import invoice_record
from tests.wire.conftest import run_plugin


def run(executable: str, base_url: str, tmp_path: Any) -> Any:
    if executable == "tap-coupa":
        config = tap_config(base_url, max_retries=8)
        return run_plugin(executable, ["--discover"], config, tmp_path, timeout=90)
    config = target_config(base_url, tmp_path, max_retries=8)
    stdin = singer_input([invoice_record()])
    return run_plugin(executable, [], config, tmp_path, stdin_text=stdin, timeout=90)


@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
def test_https_against_a_plain_http_port_says_use_http(
    coupa: Any, tmp_path: Any, executable: str
) -> None:
    netloc = coupa.base_url.split("://", 1)[1]
    result = run(executable, f"https://{netloc}", tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{netloc} answered in plain HTTP, not TLS" in result.stderr
    assert f"write http://{netloc}" in result.stderr
    assert "Retrying" not in result.stderr  # not 98 s of retries: the first failure stops
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
def test_http_against_a_tls_port_says_use_https(
    untrusted_https: str, tmp_path: Any, executable: str
) -> None:
    netloc = untrusted_https.split("://", 1)[1]
    result = run(executable, f"http://{netloc}", tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{netloc} speaks TLS (https)" in result.stderr
    assert f"write https://{netloc}" in result.stderr
    assert "Retrying" not in result.stderr  # not 98 s of retries: the first failure stops
    assert "Traceback" not in result.stderr
