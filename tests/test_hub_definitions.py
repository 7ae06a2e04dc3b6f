"""meltano-hub/ holds the plugins' Meltano Hub definitions, generated from `--about`, never stale.

`python3 tasks.py hub` writes them; these tests regenerate them from the installed console
scripts and fail on any difference, then check that Meltano itself accepts them
(`meltano add --from-ref`) and that they agree with the root meltano.yml.
"""

# ruff: noqa: S603 - runs our own venv's executables with fixed arguments

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import tasks
from tap_coupa.tap import TapCoupa
from target_coupa.target import TargetCoupa

PLUGINS = [
    ("extractors", "tap-coupa", TapCoupa),
    ("loaders", "target-coupa", TargetCoupa),
]


def hub_file(kind: str, name: str) -> Path:
    return tasks.HUB_DIR / kind / name / f"{tasks.HUB_VARIANT}.yml"


def definition(kind: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(hub_file(kind, name).read_text())
    return loaded


def dotted_names(properties: dict[str, Any], prefix: str = "") -> set[str]:
    """Setting names as Meltano spells them: declared keys of plain objects are dotted."""
    names: set[str] = set()
    for key, schema in properties.items():
        nested = schema.get("properties")
        if nested and not isinstance(schema.get("additionalProperties"), dict):
            names |= dotted_names(nested, f"{prefix}{key}.")
        else:
            names.add(prefix + key)
    return names


def test_committed_definitions_match_what_the_plugins_say() -> None:
    abouts = {name: tasks.plugin_about(tasks.VENV, name) for _, name, _ in PLUGINS}
    for path, text in tasks.hub_files(abouts).items():
        assert path.exists(), f"{path} is missing: run `python3 tasks.py hub`"
        assert path.read_text() == text, f"{path} is stale: run `python3 tasks.py hub`"


@pytest.mark.parametrize(("kind", "name", "cls"), PLUGINS)
def test_definition_has_every_setting_with_kind_label_and_secret(kind, name, cls) -> None:
    entry = definition(kind, name)
    # The plugin's own settings plus the SDK's built-in ones (stream maps, faker_config, ...),
    # from a fresh process: in this one, whether the SDK has appended them to the class's schema
    # depends on which tests ran first.
    about = tasks.plugin_about(tasks.VENV, name)
    schema = about["settings"]
    assert entry["name"] == entry["executable"] == name
    assert entry["namespace"] == name.replace("-", "_")
    assert entry["variant"] == tasks.HUB_VARIANT
    assert entry["pip_url"] == "tap-coupa"  # one distribution ships both executables
    assert set(entry["capabilities"]) == {str(c) for c in cls.capabilities}
    assert entry["settings_group_validation"] == [schema["required"]]
    settings = {s["name"]: s for s in entry["settings"]}
    assert set(settings) == dotted_names(about["settings"]["properties"])
    assert set(schema["properties"]) == {n.split(".")[0] for n in settings}
    assert {n for n, s in settings.items() if s.get("sensitive")} == {"client_secret"}
    for setting_name, setting in settings.items():
        assert setting["kind"] in {
            "string", "integer", "decimal", "boolean", "date_iso8601", "array", "object", "options",
        }, setting_name  # fmt: skip
        assert setting["label"], setting_name
    for own in set(schema["properties"]) & set(settings):
        assert settings[own]["description"], own


@pytest.mark.parametrize(("kind", "name", "cls"), PLUGINS)
def test_definition_agrees_with_the_projects_meltano_yml(kind, name, cls) -> None:
    root = yaml.safe_load((tasks.ROOT / "meltano.yml").read_text())
    [entry] = [p for p in root["plugins"][kind] if p["name"] == name]
    hub = {s["name"]: s for s in definition(kind, name)["settings"]}
    for setting in entry["settings"]:
        generated = hub[setting["name"]]
        assert generated["kind"] == setting.get("kind", "string"), setting["name"]
        assert generated.get("value") == setting.get("value"), setting["name"]
        assert bool(generated.get("sensitive")) == bool(setting.get("sensitive")), setting["name"]


def test_meltano_adds_both_plugins_from_the_definitions(tmp_path: Path) -> None:
    """`meltano add --from-ref` accepts the files and exposes their settings, secret redacted."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "meltano.yml").write_text(
        'requires_meltano: ">=4.0"\n'
        "project_id: 0d2c9b9a-5a8e-4d8f-9d5b-3f9f7a1e2c44\n"
        "send_anonymous_usage_stats: false\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_COUPA_", "MELTANO_"))}
    env.update(
        {
            "MELTANO_DISABLE_TRACKING": "true",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_COUPA_CLIENT_SECRET": "hub-test-secret",
        }
    )
    meltano = str(tasks.bin_path(tasks.VENV, "meltano"))

    def call(*args: str) -> str:
        result = subprocess.run(
            [meltano, *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
        return result.stdout + result.stderr

    for kind, name, _ in PLUGINS:
        ref = str(hub_file(kind, name))
        call("add", kind.rstrip("s"), name, "--from-ref", ref, "--no-install")
    listing = call("config", "list", "tap-coupa", "--all")
    assert "max_requests_per_second [env: TAP_COUPA_MAX_REQUESTS_PER_SECOND]" in listing
    assert "client_secret [env: TAP_COUPA_CLIENT_SECRET] current value: (redacted)" in listing
    assert "hub-test-secret" not in listing
    assert "dry_run [env: TARGET_COUPA_DRY_RUN]" in call("config", "list", "target-coupa", "--all")
