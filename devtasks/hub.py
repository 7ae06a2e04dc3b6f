"""`python3 tasks.py hub`: meltano-hub/'s plugin definitions, from each plugin's --about."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devtasks.console import TaskError, bin_path, paragraph, run_live, say
from devtasks.paths import ROOT, VENV
from devtasks.venv import ensure_venv

HUB_DIR = ROOT / "meltano-hub"
#: The Hub variant (by convention the GitHub owner that publishes the plugin) and pip_url a Hub
#: entry installs. Both plugins come from the one `tap-coupa` distribution.
HUB_VARIANT = "coupa-singer"
HUB_PIP_URL = "tap-coupa"
HUB_PLUGINS = (
    ("extractors", "tap-coupa", "tap_coupa"),
    ("loaders", "target-coupa", "target_coupa"),
)
#: A JSON number becomes `kind: string`, never `decimal`: Meltano 4.4 parses a decimal setting
#: given as an environment variable into a Decimal that its own JSON encoder then refuses
#: ("Object of type Decimal is not JSON serializable"), so `meltano run` would crash before the
#: plugin starts. The plugins read numbers given as text themselves (coupa_api.numeric_settings).
JSON_KINDS = {"integer": "integer", "number": "string", "boolean": "boolean", "array": "array"}


def schema_types(schema: Mapping[str, Any]) -> list[str]:
    """The non-null JSON types a property accepts, from `type` and any `anyOf`/`oneOf`."""
    found: list[str] = []
    declared = schema.get("type")
    for name in [declared] if isinstance(declared, str) else list(declared or []):
        if name != "null" and name not in found:
            found.append(str(name))
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, Mapping):
                found += [t for t in schema_types(option) if t not in found]
    return found


def hub_setting(name: str, schema: Mapping[str, Any], secret: bool) -> dict[str, Any]:
    """One Meltano setting (name, kind, label, description, default) from a JSON-schema property."""
    types = schema_types(schema)
    if schema.get("enum"):
        kind = "options"
    elif "array" in types:
        kind = "array"
    elif types == ["string"] and schema.get("format") == "date-time":
        kind = "date_iso8601"
    elif len(types) == 1:
        kind = JSON_KINDS.get(types[0], "object" if types[0] == "object" else "string")
    else:
        kind = "string"
    setting: dict[str, Any] = {"name": name, "kind": kind}
    setting["label"] = schema.get("title") or name.replace("_", " ").capitalize()
    if schema.get("description"):
        setting["description"] = schema["description"]
    if "default" in schema and schema["default"] is not None:
        setting["value"] = schema["default"]
    if secret:
        setting["sensitive"] = True
    if kind == "options":
        values = [v for v in schema["enum"] if v is not None]
        setting["options"] = [{"label": str(v), "value": v} for v in values]
    return setting


def hub_settings(
    properties: Mapping[str, Mapping[str, Any]], prefix: str = ""
) -> list[dict[str, Any]]:
    """Settings in `--about` order; objects with declared keys get dotted names (as on the Hub)."""
    settings: list[dict[str, Any]] = []
    for key, schema in properties.items():
        name = prefix + key
        nested = schema.get("properties")
        if nested and not isinstance(schema.get("additionalProperties"), Mapping):
            settings += hub_settings(nested, name + ".")
        else:
            secret = bool(schema.get("secret") or schema.get("writeOnly"))
            settings.append(hub_setting(name, schema, secret))
    return settings


def hub_definition(kind: str, about: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A Meltano Hub plugin definition generated from `<plugin> --about --format=json`."""
    schema: Mapping[str, Any] = about["settings"]
    required = list(schema.get("required") or [])
    definition: dict[str, Any] = {
        "name": about["name"],
        "variant": HUB_VARIANT,
        "namespace": namespace,
        "label": "Coupa",
        "description": about["description"],
        "domain_url": "https://www.coupa.com",
        "keywords": ["meltano_sdk", "coupa", "procurement"],
        "maintenance_status": "active",
        "pip_url": HUB_PIP_URL,
        "executable": about["name"],
        "capabilities": list(about["capabilities"]),
        "settings_group_validation": [required] if required else [],
        "settings": hub_settings(schema["properties"]),
    }
    if kind == "loaders":
        definition["label"] = "Coupa (writes invoices)"
    return definition


def yaml_text(value: object) -> str:
    """Block-style YAML with PyYAML (in `.venv`; `cmd_hub` runs there), one line per value.

    Multi-line text (the tap's description carries the stream table) is a literal block, so
    the file reads like the `--about` text it came from.
    """
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415 - in .venv; no stubs there

    dumper_class: Any = type("Dumper", (yaml.SafeDumper,), {})  # SafeDumper, own representers

    def text(dumper: Any, data: str) -> Any:
        return dumper.represent_scalar(
            "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None
        )

    dumper_class.add_representer(str, text)
    options = {"sort_keys": False, "allow_unicode": True, "width": 10_000}
    dumped: str = yaml.dump(value, Dumper=dumper_class, **options)
    return dumped


def hub_files(abouts: Mapping[str, Mapping[str, Any]]) -> dict[Path, str]:
    """The Hub YAML files, by path, from each plugin's `--about --format=json`."""
    files: dict[Path, str] = {}
    for kind, name, namespace in HUB_PLUGINS:
        header = (
            f"# Generated by `python3 tasks.py hub` from `{name} --about --format=json`; do not "
            "edit.\n# tests/test_hub_definitions.py fails when it drifts from the code.\n"
        )
        body = yaml_text(hub_definition(kind, abouts[name], namespace))
        files[HUB_DIR / kind / name / f"{HUB_VARIANT}.yml"] = header + body
    return files


def plugin_about(venv: Path, executable: str) -> dict[str, Any]:
    """`<executable> --about --format=json` from a venv, parsed."""
    result = subprocess.run(  # noqa: S603 - our own console scripts
        [str(bin_path(venv, executable)), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode:
        raise TaskError(
            paragraph(
                f"`{executable} --about --format=json` failed: {result.stderr.strip()[-600:]}"
            )
        )
    about: dict[str, Any] = json.loads(result.stdout)
    return about


def cmd_hub(args: argparse.Namespace) -> int:
    """`python3 tasks.py hub [--check]`: runs `main` with .venv's Python (it has PyYAML)."""
    python = ensure_venv(quiet=True)
    return run_live([python, "-m", "devtasks.hub", *(["--check"] if args.check else [])])


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or, with --check, verify) the Meltano Hub definitions in meltano-hub/."""
    parser = argparse.ArgumentParser(prog="python3 tasks.py hub")
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    args = parser.parse_args(argv)
    try:
        files = hub_files({name: plugin_about(VENV, name) for _, name, _ in HUB_PLUGINS})
    except TaskError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    shown = ", ".join(str(path.relative_to(ROOT)) for path in stale)
    if args.check:
        if stale:
            print(f"Out of date (run `python3 tasks.py hub`): {shown}", file=sys.stderr)
            return 1
        say("The Hub definitions in meltano-hub/ match the plugins' --about")
        return 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
    say(f"Wrote {shown}" if stale else "The Hub definitions were already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
