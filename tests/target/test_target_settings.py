"""Settings: one clear sentence per problem, checked before anything is read or written."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from coupa_api.settings import connection_problems
from target_coupa.settings import DEFAULT_SCOPES, target_problems
from target_coupa.target import TargetCoupa

GOOD = {"base_url": "http://127.0.0.1:1", "client_id": "demo", "client_secret": "demo-secret"}


def test_good_config_has_no_problems():
    assert target_problems(GOOD) == []
    target = TargetCoupa(config=GOOD)
    assert target.required_scopes() == list(DEFAULT_SCOPES)
    assert {"core.invoice.write", "core.invoice.create", "core.supplier.read"} <= set(
        DEFAULT_SCOPES
    )


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"on_unsupported_stream": "ignore"}, "`on_unsupported_stream` is 'ignore'"),
        ({"dead_letter_path": ""}, "`dead_letter_path` is empty"),
        ({"dead_letter_path": "/no/such/dir/dl.jsonl"}, "does not exist"),
        ({"scopes": ["core.invoice.read"]}, "neither core.invoice.write nor core.invoice.create"),
        ({"scopes": ["core.invoice.write"]}, "lacks core.invoice.read"),
        ({"base_url": "http://coupa.example.com"}, "plain http"),
    ],
)
def test_bad_setting_is_named(overrides, words):
    config = {**GOOD, **overrides}
    problems = connection_problems(config) + target_problems(config)
    assert len(problems) == 1
    assert words in problems[0]
    assert _construct_errors(config)  # the target refuses to start with it


def _construct_errors(config):
    with pytest.raises(ConfigValidationError) as info:
        TargetCoupa(config=config)
    return info.value.errors


def test_dead_letter_path_that_is_a_directory(tmp_path):
    assert "is a directory" in target_problems({**GOOD, "dead_letter_path": str(tmp_path)})[0]


def test_dry_run_may_use_read_only_scopes():
    config = {**GOOD, "dry_run": True, "scopes": ["core.invoice.read", "core.supplier.read"]}
    assert target_problems(config) == []


def test_several_problems_are_reported_together():
    errors = _construct_errors(
        {**GOOD, "client_id": "", "on_unsupported_stream": "skip", "dead_letter_path": "/nope/x"}
    )
    assert len(errors) == 2
    assert any("client_id" in e for e in errors)


def test_about_lists_target_settings_without_meaningless_builtins():
    props = TargetCoupa.config_jsonschema["properties"]
    TargetCoupa.append_builtin_config(props_holder := {"properties": dict(props)})
    names = set(props_holder["properties"])
    ours = {"dry_run", "allow_failures", "dead_letter_path", "submit", "on_unsupported_stream"}
    assert ours <= names
    assert "load_method" not in names
    assert "batch_size_rows" not in names
