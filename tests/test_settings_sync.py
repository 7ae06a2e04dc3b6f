"""meltano.yml, the plugins' own settings, the README and the settings pages never drift apart."""

from __future__ import annotations

import copy
import io
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_coupa.tap import TapCoupa
from target_coupa.target import TargetCoupa
from tests.tap.conftest import tap_config

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
def test_meltano_settings_match_the_plugin(name: str, cls: Any) -> None:
    own = set(cls.config_jsonschema["properties"]) - SDK_BUILTINS
    entry = plugin(name)
    declared = {s["name"] for s in entry["settings"]}
    assert declared == own
    sensitive = {s["name"] for s in entry["settings"] if s.get("sensitive")}
    secret = {k for k, v in cls.config_jsonschema["properties"].items() if v.get("secret")}
    assert sensitive == secret == {"client_secret"}


@pytest.mark.parametrize(("name", "cls"), [("tap-coupa", TapCoupa), ("target-coupa", TargetCoupa)])
def test_meltano_capabilities_match_the_plugin(name: str, cls: Any) -> None:
    assert set(plugin(name)["capabilities"]) == {str(c) for c in cls.capabilities}


#: The header `--about --format=markdown` gives its settings table (and the docs copy).
SETTINGS_HEADER = "| Setting | Required | Default | Description |"


def settings_rows(text: str) -> list[str]:
    """The rows of the first settings table in `text` (below its header and separator)."""
    lines = text.splitlines()
    rows: list[str] = []
    for line in lines[lines.index(SETTINGS_HEADER) + 2 :]:
        if not line.startswith("| "):
            break
        rows.append(line)
    return rows


def about_markdown(cls: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `<plugin> --about --format=markdown` prints."""
    # The SDK adds its built-in settings to the class's schema while building `--about`.
    monkeypatch.setattr(cls, "config_jsonschema", copy.deepcopy(cls.config_jsonschema))
    out = io.StringIO()
    with redirect_stdout(out):
        cls.print_about("markdown")
    return out.getvalue()


@pytest.mark.parametrize(
    ("doc", "cls", "with_sdk_settings"),
    [("docs/settings.md", TapCoupa, False), ("docs/target.md", TargetCoupa, True)],
)
def test_docs_settings_tables_are_what_about_prints(
    doc: str, cls: Any, with_sdk_settings: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each plugin's settings page shows `--about --format=markdown`'s table, row for row."""
    own = set(cls.config_jsonschema["properties"]) - SDK_BUILTINS
    printed = settings_rows(about_markdown(cls, monkeypatch))
    if not with_sdk_settings:
        printed = [r for r in printed if r.split("|")[1].strip().split(".")[0] in own]
    documented = settings_rows((ROOT / doc).read_text(encoding="utf-8"))
    assert own <= {row.split("|")[1].strip() for row in documented}, doc
    assert documented == printed, (
        f"{doc}'s settings table is stale: paste the rows of "
        f"`{cls.name} --about --format=markdown` (its own settings)"
    )


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    """The README opens with the demo and the test command; .ci/run runs exactly the latter."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    first = next(n for n, line in enumerate(readme) if line.startswith("```"))
    before = [
        line for line in readme[:first] if line.strip() and not line.startswith(("# ", "<!--"))
    ]
    assert before == [], "README.md starts with its title, then the two commands"
    end = readme.index("```", first + 1)
    commands = [re.sub(r"\s+#.*$", "", line).strip() for line in readme[first + 1 : end]]
    assert commands == ["python3 tasks.py demo", "python3 tasks.py test"]
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci[-1] == commands[1], ".ci/run ends with exactly the README's test command"


def test_multi_tenant_example_declares_every_setting_like_the_project() -> None:
    """The example's base tap-coupa declares every setting, each with the project's kind.

    Meltano reads an environment variable only for a declared setting, and the kind decides
    how it is parsed (a `decimal` one crashes `meltano run`: coupa_api.numeric_settings).
    """
    example = yaml.safe_load((ROOT / "examples" / "multi-tenant" / "meltano.yml").read_text())
    [base] = [p for p in example["plugins"]["extractors"] if p["name"] == "tap-coupa"]
    kinds = {s["name"]: s["kind"] for s in base["settings"]}
    assert kinds == {s["name"]: s["kind"] for s in plugin("tap-coupa")["settings"]}


@pytest.mark.parametrize("name", ["tap-coupa", "target-coupa"])
def test_no_setting_is_declared_decimal(name: str) -> None:
    """Meltano 4.4 turns a decimal setting from the environment into a Decimal it cannot encode."""
    assert not [s["name"] for s in plugin(name)["settings"] if s.get("kind") == "decimal"]


def test_readme_scope_list_is_what_every_stream_the_tap_builds_needs(coupa: Any) -> None:
    """The README's "for every stream" scopes = the scopes the tap requests with all selected."""
    from tap_coupa.streams import STREAMS  # noqa: PLC0415 - beside the registry it checks
    from tap_coupa.streams.catalog_doc import (  # noqa: PLC0415
        SCOPES_BEGIN,
        SCOPES_END,
        scopes_section,
    )

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert scopes_section(STREAMS) in readme, (
        "README scope list is stale: run `python -m tap_coupa.streams.catalog_doc README.md`"
    )
    block = readme[readme.index(SCOPES_BEGIN) : readme.index(SCOPES_END)]
    listed = re.findall(r"\bcore\.[a-z_.]+\.read\b", block)
    tap = TapCoupa(config=tap_config(coupa.base_url))  # discovers: builds every stream
    needed = tap.required_scopes()
    assert all(stream.selected for stream in tap.streams.values())
    assert sorted(listed) == sorted(needed) == sorted(set(listed))
    assert f"these {len(needed)} scopes" in block


def test_docs_numeric_settings_table_is_generated_from_the_code() -> None:
    from coupa_api.numeric_settings import limits_section  # noqa: PLC0415

    assert limits_section() in (ROOT / "docs" / "meltano.md").read_text(encoding="utf-8"), (
        "docs/meltano.md's table is stale: run `python -m coupa_api.numeric_settings "
        "docs/meltano.md`"
    )
