"""meltano.yml, the plugins' own settings and the README never drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_coupa.tap import TapCoupa
from target_coupa.target import TargetCoupa

ROOT = Path(__file__).resolve().parents[1]
#: Settings every singer-sdk plugin has; Meltano knows them without a definition.
SDK_BUILTINS = {
    "stream_maps", "stream_map_config", "faker_config", "flattening_enabled",
    "flattening_max_depth", "flattening_max_key_length", "flattening_separator",
    "add_record_metadata", "validate_records", "load_method", "batch_size_rows",
}  # fmt: skip


def plugin(name: str) -> dict[str, Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    for kind in ("extractors", "loaders"):
        for entry in project["plugins"][kind]:
            if entry["name"] == name:
                return dict(entry)
    raise AssertionError(name)


@pytest.mark.parametrize(("name", "cls"), [("tap-coupa", TapCoupa), ("target-coupa", TargetCoupa)])
def test_meltano_settings_match_the_plugin(name, cls):
    own = set(cls.config_jsonschema["properties"]) - SDK_BUILTINS
    entry = plugin(name)
    declared = {s["name"] for s in entry["settings"]}
    assert declared == own
    sensitive = {s["name"] for s in entry["settings"] if s.get("sensitive")}
    secret = {k for k, v in cls.config_jsonschema["properties"].items() if v.get("secret")}
    assert sensitive == secret == {"client_secret"}


@pytest.mark.parametrize(("name", "cls"), [("tap-coupa", TapCoupa), ("target-coupa", TargetCoupa)])
def test_meltano_capabilities_match_the_plugin(name, cls):
    assert set(plugin(name)["capabilities"]) == {str(c) for c in cls.capabilities}


def test_readme_settings_table_is_current():
    readme = (ROOT / "README.md").read_text()
    for name in set(TapCoupa.config_jsonschema["properties"]) - SDK_BUILTINS:
        assert f"| {name} |" in readme, name
    assert readme.index("python3 tasks.py demo") < readme.index("python3 tasks.py test")
    assert "python3 tasks.py test" in (ROOT / ".ci" / "run").read_text()
