"""Pins of the singer-sdk surfaces coupa_api.cli.CoupaPluginMixin relies on (tap and target).

Private, with no public hook in singer-sdk 0.54 (coupa_api/cli.py says why, and what it waits for):
- `PluginBase._validate_config` (overridden: secret-safe messages, numeric settings read from
  text, unknown-setting warnings; a public validation hook was meltano/sdk#1309);
- the `_config` dict it validates (numbers coerced in place; `config` is a read-only view);
- `PluginBase._handle_termination` (overridden: exit 4 with a report instead of exit 0;
  meltano/sdk#3698, not in 0.54.9, changes it to ignore a repeated signal).

Public, relied on in a way the SDK does not promise: `message_writer` (wrapped to count RECORD
messages) is set by `BaseSingerWriter.__init__` and is what `write_message` writes through.

Each test fails with a message naming what to look for in singer-sdk's changelog.
"""

from __future__ import annotations

import inspect

from singer_sdk import Tap, Target
from singer_sdk.plugin_base import BaseSingerWriter, PluginBase
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from coupa_api.cli import CountingWriter, CoupaPluginMixin
from tap_coupa.tap import TapCoupa
from target_coupa.target import TargetCoupa


def _parameters(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def _source(func: object) -> str:
    return inspect.getsource(func)  # type: ignore[arg-type]


def test_config_validation_is_the_method_init_calls_once_the_config_is_complete():
    assert _parameters(PluginBase._validate_config) == ["self", "raise_errors"], (
        "singer-sdk changed PluginBase._validate_config: look for a renamed config validation "
        "step or a public config-validation hook, and move CoupaPluginMixin's override to it."
    )
    init = _source(PluginBase.__init__)
    merged = init.index("config_dict.update(self._env_var_config)")
    stored = init.index("self._config = config_dict")
    validated = init.index("self._validate_config(raise_errors=validate_config)")
    assert merged < stored < validated, (
        "singer-sdk's PluginBase.__init__ validates the config at another point: look for a "
        "change in config loading; the mixin must see the config with the environment merged."
    )
    assert "MappingProxyType(self._config)" in _source(PluginBase.config.fget), (
        "singer-sdk's `config` is no longer a view of `_config`: look for a change in config "
        "storage; numeric settings coerced in `_config` would not reach the plugin."
    )
    for plugin in (TapCoupa, TargetCoupa):
        assert plugin._validate_config is CoupaPluginMixin._validate_config, plugin


def test_the_validator_the_mixin_builds_is_still_exported():
    validator = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 3}}}
    config: dict[str, object] = {}
    assert list(validator(schema).iter_errors(config)) == []
    assert config == {"n": 3}, (
        "singer-sdk's extend_validator_with_defaults no longer fills in defaults: look for a "
        "change in singer_sdk.typing; settings' defaults would be missing from the config."
    )


def test_termination_is_handled_by_the_method_the_sdk_installs_for_signals():
    for base in (PluginBase, Tap, Target):
        assert _parameters(base._handle_termination) == ["self", "signum", "frame"], (
            f"singer-sdk changed {base.__name__}._handle_termination: look for a renamed "
            "signal handler or a public shutdown hook (meltano/sdk#3698 reworks it; not in "
            "0.54.9); SIGTERM would exit 0 again."
        )
    installs = _source(PluginBase._setup_signal_handlers)
    for name in ("SIGINT", "SIGTERM"):
        assert f"signal.signal(signal.{name}, self._handle_termination)" in installs, (
            f"singer-sdk no longer installs _handle_termination for {name}: look for a "
            "change in its signal handling; an interrupted run would not exit 4."
        )
    assert "sys.exit(0)" in _source(PluginBase._handle_termination), (
        "singer-sdk's termination no longer exits 0: look for what it raises now; the mixin "
        "catches SystemExit to exit 4 instead."
    )
    assert "super()._handle_termination(signum, frame)" in _source(Tap._handle_termination)
    assert "super()._handle_termination(signum, frame)" in _source(Target._handle_termination)
    for plugin in (TapCoupa, TargetCoupa):
        assert plugin._handle_termination is CoupaPluginMixin._handle_termination, plugin


def test_the_tap_writes_through_the_message_writer_the_mixin_wraps():
    assert "self.message_writer = self.instantiate_processor(" in _source(
        BaseSingerWriter.__init__
    ), (
        "singer-sdk's BaseSingerWriter no longer sets `message_writer`: look for a change in "
        "how taps write messages; records_written (the interruption report) would stay empty."
    )
    assert "self.message_writer.write_message(message)" in _source(BaseSingerWriter.write_message)
    assert issubclass(CountingWriter, GenericSingerWriter)
    abstract = GenericSingerWriter.__abstractmethods__
    assert abstract == frozenset({"serialize_message", "write_message"}), (
        f"singer-sdk's GenericSingerWriter has other abstract methods now ({sorted(abstract)}): "
        "CountingWriter must implement them."
    )
