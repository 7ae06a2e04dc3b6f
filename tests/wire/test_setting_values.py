"""Settings as users give them: numbers as text, out-of-range numbers, misspelled names.

Issue 15 items 1 and 4 (a decimal setting from the environment; a misspelled setting passes
silently) and issue 14 (10^12 for a numeric setting is one sentence and exit 2). The same rules
for tap and target: coupa_api.numeric_settings and coupa_api.cli.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from coupa_api.numeric_settings import CONNECTION_NUMBERS, TAP_NUMBERS, TARGET_NUMBERS
from tests.tap.conftest import tap_config
from tests.target.conftest import singer_input, target_config
from tests.wire.conftest import run_plugin

PLUGINS = {
    "tap-coupa": (*CONNECTION_NUMBERS, *TAP_NUMBERS),
    "target-coupa": (*CONNECTION_NUMBERS, *TARGET_NUMBERS),
}
CASES = [(exe, s) for exe, settings in PLUGINS.items() for s in settings]


def config_for(executable: str, base_url: str, tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    if executable == "tap-coupa":
        return tap_config(base_url, **overrides)
    return target_config(base_url, tmp_path, **overrides)


def check_only(executable: str, config: dict[str, Any], tmp_path: Any) -> Any:
    """A run that reads settings first: discovery (tap), or a SCHEMA and a STATE (target)."""
    if executable == "tap-coupa":
        return run_plugin(executable, ["--discover"], config, tmp_path, timeout=120)
    stdin = singer_input([])
    return run_plugin(executable, [], config, tmp_path, stdin_text=stdin, timeout=120)


@pytest.mark.parametrize(("executable", "setting"), CASES, ids=[f"{e}-{s.name}" for e, s in CASES])
@pytest.mark.parametrize("value", [10**12, -1, "fast"], ids=["huge", "negative", "word"])
def test_a_number_out_of_range_is_one_sentence_and_exit_2(
    coupa: Any, tmp_path: Any, executable: str, setting: Any, value: Any
) -> None:
    if value == -1 and setting.low < 0:
        pytest.skip("negative is in range")
    config = config_for(executable, coupa.base_url, tmp_path, **{setting.name: value})
    result = check_only(executable, config, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if f"`{setting.name}` is" in line]
    assert len(problems) == 1, result.stderr[-2000:]
    assert setting.range_text in problems[0]
    assert coupa.control.stats()["token_mints"].get("demo", 0) == 0  # nothing was sent


@pytest.mark.parametrize("executable", list(PLUGINS))
def test_numbers_given_as_text_are_read_as_numbers(
    coupa: Any, tmp_path: Any, executable: str
) -> None:
    """What Meltano passes for `kind: string` settings from the environment: "12.5"."""
    config = config_for(
        executable,
        coupa.base_url,
        tmp_path,
        token_settle_seconds="0.5",
        max_requests_per_second=" 12.5 ",
        request_timeout="30",
        max_retries=3.0,
        max_concurrency="2",
    )
    result = check_only(executable, config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    [line] = [x for x in result.stderr.splitlines() if "Numeric settings in effect" in x]
    for shown in (
        "token_settle_seconds=0.5",
        "max_requests_per_second=12.5",
        "request_timeout=30",
        "max_retries=3,",
        "max_concurrency=2",
    ):
        assert shown in line, line


@pytest.mark.parametrize("executable", list(PLUGINS))
def test_a_fraction_for_a_whole_number_setting_is_named(
    coupa: Any, tmp_path: Any, executable: str
) -> None:
    config = config_for(executable, coupa.base_url, tmp_path, request_timeout="12.5")
    result = check_only(executable, config, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "`request_timeout` is 12.5, not a whole number" in result.stderr


@pytest.mark.parametrize("executable", list(PLUGINS))
@pytest.mark.parametrize(
    ("typo", "meant"),
    [("max_concurency", "max_concurrency"), ("request_timout", "request_timeout")],
)
def test_a_misspelled_setting_is_named_with_the_closest_one(
    coupa: Any, tmp_path: Any, executable: str, typo: str, meant: str
) -> None:
    config = config_for(executable, coupa.base_url, tmp_path, **{typo: 4})
    result = check_only(executable, config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [x for x in result.stderr.splitlines() if "Unknown setting" in x]
    assert len(warnings) == 1, result.stderr[-2000:]
    assert f"`{typo}`: did you mean `{meant}`?" in warnings[0]


def test_start_dte_is_named_and_nothing_the_sdk_or_meltano_adds_is(
    coupa: Any, tmp_path: Any
) -> None:
    config = tap_config(
        coupa.base_url,
        start_dte="2024-01-01",
        stream_maps={},
        stream_map_config={},
        flattening_enabled=False,
        flattening_max_depth=1,
        faker_config={},
        _meltano_extra="kept",
    )
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [x for x in result.stderr.splitlines() if "Unknown setting" in x]
    assert len(warnings) == 1, warnings
    assert re.search(r"Unknown setting `start_dte`: did you mean `start_date`\?", warnings[0])
    assert "2024-01-01" not in warnings[0]  # names only, never a value


@pytest.mark.parametrize("value", ["invoices", 7, {"invoices": "yes"}])
def test_a_mistyped_detect_deletes_is_one_sentence_and_exit_2(
    coupa: Any, tmp_path: Any, value: Any
) -> None:
    config = tap_config(coupa.base_url, detect_deletes=value)
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    problems = [x for x in result.stderr.splitlines() if "detect_deletes" in x and "ERROR" in x]
    assert problems, result.stderr[-2000:]
    assert "list of stream names" in problems[0]
