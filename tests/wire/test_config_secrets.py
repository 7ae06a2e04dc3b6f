"""A secret setting of the wrong type is named, never shown (issue 8 item 7).

singer-sdk's config validation messages come from jsonschema and include the value: a
`client_secret` given as a list or a number was printed in full.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from coupa_api.cli import config_error_message
from coupa_api.redact import secret_settings
from tap_coupa.tap import TapCoupa
from target_coupa.target import TargetCoupa
from tests.tap.conftest import tap_config
from tests.target.conftest import target_config
from tests.wire.conftest import run_plugin

WRONG_TYPES = {
    "list": ["list-secret-Value-9f2c"],
    "number": 918273645546372,
    "object": {"value": "object-secret-Value-77ab"},
}


def _shown(value: object) -> list[str]:
    """Strings that would give the value away."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(value)]


@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
@pytest.mark.parametrize("kind", sorted(WRONG_TYPES))
def test_wrong_type_secret_is_never_echoed(coupa, tmp_path, executable, kind):
    value = WRONG_TYPES[kind]
    base = (
        tap_config(coupa.base_url)
        if executable == "tap-coupa"
        else target_config(coupa.base_url, tmp_path)
    )
    args = ["--discover"] if executable == "tap-coupa" else []
    result = run_plugin(executable, args, {**base, "client_secret": value}, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]  # ExitCode.CONFIG
    assert "`client_secret` has the wrong type" in result.stderr
    assert "Traceback" not in result.stderr
    for text in _shown(value):
        assert text not in result.stderr + result.stdout


@pytest.mark.parametrize("plugin", [TapCoupa, TargetCoupa])
def test_in_process_validation_errors_carry_no_secret(plugin, tmp_path):
    config = target_config("http://127.0.0.1:1", tmp_path) | {"client_secret": ["zz-list-Secret-1"]}
    with pytest.raises(ConfigValidationError) as info:
        plugin(config=config, parse_env_config=False)
    text = str(info.value) + " ".join(info.value.errors)
    assert "zz-list-Secret-1" not in text
    assert "client_secret" in text


def test_secret_settings_come_from_the_schema():
    assert secret_settings(TapCoupa.config_jsonschema) == ["client_secret"]
    schema = {"properties": {"a": {"secret": True}, "b": {"writeOnly": True}, "c": {}}}
    assert secret_settings(schema) == ["a", "b"]


def test_any_secret_property_is_rewritten_not_just_client_secret():
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    schema = {
        "type": "object",
        "properties": {"api_password": {"type": "string", "secret": True}, "n": {"type": "string"}},
    }
    config = {"api_password": ["hunter2-Sekret"], "n": 5}
    errors = list(Draft202012Validator(schema).iter_errors(config))
    messages = [config_error_message(e, secret_settings(schema)) for e in errors]
    assert any("`api_password` has the wrong type" in m for m in messages)
    assert any("5 is not of type 'string'" in m for m in messages)  # not secret: shown
    assert not any("hunter2-Sekret" in m for m in messages)


#: Marked, so that a leaf never occurs in a message by chance (a secret `string` would be found
#: in "... is not of type 'string'" without leaking).
LEAVES = (
    st.text(min_size=6, max_size=20)
    .filter(lambda s: s.strip() == s and s.isprintable())
    .map(lambda s: f"s3kr1t-{s}")
)
WRONG_SECRETS = st.recursive(
    st.integers(min_value=10**6) | st.floats(allow_nan=False, min_value=1e6) | LEAVES,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b"]), inner, min_size=1)
    ),
    max_leaves=5,
).filter(lambda v: not isinstance(v, str))


def _leaf_texts(value: object) -> list[str]:
    if isinstance(value, list):
        return [t for v in value for t in _leaf_texts(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _leaf_texts(v)]
    return [str(value), repr(value)]


@settings(max_examples=100, deadline=1000)
@given(WRONG_SECRETS)
def test_no_wrong_typed_secret_value_reaches_a_message(value):
    schema = TapCoupa.config_jsonschema
    validator = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)(schema)
    config = {"base_url": "https://acme.coupahost.com", "client_id": "c", "client_secret": value}
    messages = [
        config_error_message(e, secret_settings(schema)) for e in validator.iter_errors(config)
    ]
    assert messages  # a wrong type is an error...
    for text in _leaf_texts(value):
        assert not any(text in m for m in messages)  # ...that never shows the value
