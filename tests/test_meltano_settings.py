"""Every setting works under Meltano 4.4: from the environment, `config set` and meltano.yml.

For each of the three plugin definitions users start from (the project's meltano.yml, the Hub
definitions in meltano-hub/, the multi-tenant example) and each way of giving settings, one
`meltano run <tap> target-jsonl` reads one small stream (currencies) with every tap setting set
to a non-default value, the fractional ones as text ("12.5"), and `meltano invoke target-coupa
--test=scopes` checks every target setting the same way. A `kind: decimal` setting made the
environment way crash in Meltano itself ("Object of type Decimal is not JSON serializable").

Speed: nothing is pip-installed for tap-coupa. Each project's plugin venv is a folder whose
`bin/tap-coupa` and `bin/target-coupa` run this checkout's `.venv` console scripts. `meltano run`
auto-installs a plugin whose venv lacks a matching `.meltano_plugin_fingerprint` even with
MELTANO_AUTO_INSTALL=false (Meltano 4.4), so each venv carries the fingerprint Meltano computes
from the plugin's own `pip_url`: Meltano sees it installed and never touches it. target-jsonl is
installed once per session into its own venv, which every project links to.
"""

# ruff: noqa: S603 - runs our own venvs' executables with fixed arguments

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from meltano.core.utils import expand_env_vars
from meltano.core.venv_service import fingerprint

import tasks
from coupa_emulator.server import RunningEmulator
from tap_coupa.streams import STREAMS
from tap_coupa.streams.catalog_doc import every_scope
from target_coupa.settings import DEFAULT_SCOPES

pytestmark = [pytest.mark.meltano, pytest.mark.timeout(900)]

MELTANO = tasks.bin_path(tasks.VENV, "meltano")
STREAM = "currencies"
CLIENT_ID, CLIENT_SECRET = "meltano-settings", "meltano-settings-secret"

#: Every tap setting but the connection's three, each different from its default.
TAP_SETTINGS: dict[str, Any] = {
    "scopes": every_scope(STREAMS),
    "start_date": "2020-01-01T00:00:00Z",
    "lookback_window": 60,
    "request_timeout": 30,
    "token_settle_seconds": 0.5,
    "max_requests_per_second": 12.5,
    "max_retries": 3,
    "max_retry_seconds": 60,
    "max_concurrency": 2,
    "custom_fields_as_columns": False,
    "progress_interval": 5,
    "filters": {"invoices": {"status[in]": "approved,voided"}},
    "detect_deletes": ["invoices"],
    "extra_streams": [
        {"name": "currencies_again", "path": "/api/currencies", "scope": "core.common.read"}
    ],
}
#: Every target setting but the connection's three.
TARGET_SETTINGS: dict[str, Any] = {
    "scopes": list(DEFAULT_SCOPES),
    "request_timeout": 30,
    "token_settle_seconds": 0.5,
    "max_requests_per_second": 12.5,
    "max_retries": 3,
    "max_retry_seconds": 60,
    "max_concurrency": 2,
    "dry_run": True,
    "allow_failures": True,
    "dead_letter_path": "dead-letter.jsonl",
    "submit": True,
    "on_unsupported_stream": "skip",
}
#: What the plugins log once their settings are read (coupa_api.cli): the numbers they use.
IN_EFFECT = ("request_timeout=30", "token_settle_seconds=0.5", "max_requests_per_second=12.5")


@dataclass(frozen=True)
class Source:
    """A plugin definition users start from: where its meltano.yml comes from, its tap's name."""

    name: str
    tap: str
    #: Environment in whose `config:` settings are written (None: the plugin's own `config:`).
    environment: str | None
    has_target: bool


SOURCES = [
    Source("project", "tap-coupa", "dev", has_target=True),
    Source("hub", "tap-coupa", None, has_target=True),
    Source("multi-tenant", "tap-coupa--acme", "dev", has_target=False),
]
WAYS = ["environment", "config-set", "meltano-yml"]


def env_prefix(plugin: str) -> str:
    """Meltano's environment-variable prefix of a plugin (`tap-coupa--acme` -> TAP_COUPA__ACME)."""
    return plugin.upper().replace("-", "_")


def one_per_kind(settings: dict[str, Any]) -> dict[str, Any]:
    """Every fractional setting and the first of each other kind.

    `meltano config set` parses a value by the setting's kind alone, so one setting per kind
    covers its code path; each call starts Meltano (seconds), and all of them took minutes.
    """
    chosen: dict[str, Any] = {}
    kinds: set[type] = set()
    for name, value in settings.items():
        if isinstance(value, float) or type(value) not in kinds:
            chosen[name] = value
            kinds.add(type(value))
    return chosen


def as_text(value: Any) -> str:
    """A setting as a user types it into a shell: numbers and words bare, the rest as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value)


@pytest.fixture(scope="session")
def jsonl_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """target-jsonl, installed once (the root meltano.yml's pin)."""
    venv = tmp_path_factory.mktemp("target-jsonl") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(tasks.bin_path(venv, "python")), "-m", "pip", "install", "-q"]
    result = subprocess.run(
        [*pip, "--disable-pip-version-check", "target-jsonl==0.1.4"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return venv


def coupa_venv(venv: Path) -> None:
    """A plugin "venv" whose executables are this checkout's console scripts."""
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    for name in ("tap-coupa", "target-coupa"):
        script = venv / "bin" / name
        script.write_text(f'#!/bin/sh\nexec "{tasks.bin_path(tasks.VENV, name)}" "$@"\n')
        script.chmod(0o755)


def mark_installed(venv: Path, pip_url: str, project_root: Path) -> None:
    """Write the fingerprint `meltano install` would leave for `pip_url` (Meltano's own code).

    Pins Meltano's private `fingerprint` and `expand_env_vars`: if they move, this fails loudly
    rather than letting `meltano run` reinstall over the linked venvs.
    """
    expanded = expand_env_vars(pip_url, {"MELTANO_PROJECT_ROOT": str(project_root)})
    (venv / ".meltano_plugin_fingerprint").write_text(fingerprint(shlex.split(expanded)))


def plugin_definitions(root: Path) -> dict[str, dict[str, Any]]:
    """Every plugin of the project's meltano.yml by name (after Hub `add`s)."""
    data = yaml.safe_load((root / "meltano.yml").read_text())
    return {p["name"]: p for kind in data.get("plugins", {}).values() for p in kind}


@pytest.fixture(scope="module")
def coupa(emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    """The session emulator with the client every project here uses (as the example's acme)."""
    emulator.control.reset()
    scopes = sorted({*every_scope(STREAMS), *DEFAULT_SCOPES})  # read all, write invoices
    emulator.control.add_client(CLIENT_ID, CLIENT_SECRET, scopes)
    emulator.control.add_client("meltano-acme", CLIENT_SECRET, scopes)
    yield emulator
    emulator.control.reset()


def project_yml(source: Source) -> dict[str, Any]:
    """The source's meltano.yml as this test's project starts from it (Hub: before `add`)."""
    if source.name == "project":
        loaded: dict[str, Any] = yaml.safe_load((tasks.ROOT / "meltano.yml").read_text())
        return loaded
    if source.name == "multi-tenant":
        example: dict[str, Any] = yaml.safe_load((tasks.MULTI_TENANT / "meltano.yml").read_text())
        return example
    root = yaml.safe_load((tasks.ROOT / "meltano.yml").read_text())
    jsonl = [p for p in root["plugins"]["loaders"] if p["name"] == "target-jsonl"]
    return {  # what `meltano init` writes: Meltano 4.4 `run` needs an environment
        "requires_meltano": ">=4.0",
        "project_id": "0d2c9b9a-5a8e-4d8f-9d5b-3f9f7a1e2c45",
        "send_anonymous_usage_stats": False,
        "default_environment": "dev",
        "environments": [{"name": "dev"}, {"name": "staging"}, {"name": "prod"}],
        "plugins": {"loaders": jsonl},
    }


@dataclass
class Project:
    """One Meltano project in tmp_path: its files, its environment, its commands."""

    source: Source
    root: Path
    env: dict[str, str]

    def meltano(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MELTANO), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )

    def give(self, way: str, plugin: str, settings: dict[str, Any]) -> None:
        """Give `settings` to `plugin` the way a user would: env, `config set` or meltano.yml."""
        if way == "environment":
            for name, value in settings.items():
                self.env[f"{env_prefix(plugin)}_{name.upper()}"] = as_text(value)
        elif way == "config-set":
            scope = [f"--environment={self.source.environment}"] if self.source.environment else []
            typed = one_per_kind(settings)
            for name, value in typed.items():
                done = self.meltano(*scope, "config", "set", plugin, name, as_text(value))
                assert done.returncode == 0, done.stderr[-2000:]
            self.give("meltano-yml", plugin, {k: v for k, v in settings.items() if k not in typed})
        else:
            path = self.root / "meltano.yml"
            data = yaml.safe_load(path.read_text())
            if self.source.environment:
                [environment] = [
                    e for e in data["environments"] if e["name"] == self.source.environment
                ]
                plugins = environment.setdefault("config", {}).setdefault("plugins", {})
            else:
                plugins = data["plugins"]
            kind = "extractors" if plugin.startswith("tap") else "loaders"
            entries = plugins.setdefault(kind, [])
            entry = next((p for p in entries if p["name"] == plugin), None)
            if entry is None:
                entry = {"name": plugin}
                entries.append(entry)
            entry.setdefault("config", {}).update(settings)
            path.write_text(yaml.safe_dump(data, sort_keys=False))


def make_project(
    source: Source,
    root: Path,
    coupa: RunningEmulator,
    jsonl_venv: Path,
) -> Project:
    root.mkdir(parents=True)
    (root / "meltano.yml").write_text(yaml.safe_dump(project_yml(source), sort_keys=False))
    (root / "output").mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_COUPA", "TARGET_COUPA", "TARGET_JSONL", "MELTANO_"))
        and "_COUPA_" not in k
    }
    env.update(
        {
            "MELTANO_AUTO_INSTALL": "false",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "TARGET_JSONL_DESTINATION_PATH": str(root / "output"),
            "TARGET_JSONL_DO_TIMESTAMP_FILE": "false",
        }
    )
    project = Project(source, root, env)
    if source.name == "multi-tenant":
        env["ACME_COUPA_BASE_URL"] = coupa.base_url
        env["ACME_COUPA_CLIENT_SECRET"] = CLIENT_SECRET
    else:
        for plugin in ("tap-coupa", "target-coupa"):
            project.env[f"{env_prefix(plugin)}_BASE_URL"] = coupa.base_url
            project.env[f"{env_prefix(plugin)}_CLIENT_ID"] = CLIENT_ID
            project.env[f"{env_prefix(plugin)}_CLIENT_SECRET"] = CLIENT_SECRET
    env[f"{env_prefix(source.tap)}__SELECT"] = json.dumps([f"{STREAM}.*"])
    if source.name == "hub":  # as a user adds them: `meltano add --from-ref`
        for kind, name in (("extractor", "tap-coupa"), ("loader", "target-coupa")):
            ref = tasks.HUB_DIR / f"{kind}s" / name / f"{tasks.HUB_VARIANT}.yml"
            added = project.meltano("add", kind, name, "--from-ref", str(ref), "--no-install")
            assert added.returncode == 0, added.stderr[-2000:]
    definitions = plugin_definitions(root)
    for kind, name in (
        ("extractors", "tap-coupa"),
        ("loaders", "target-coupa"),
        ("loaders", "target-jsonl"),
    ):
        if name not in definitions:
            continue  # the multi-tenant example defines no target-coupa
        venv = root / ".meltano" / kind / name / "venv"
        if name == "target-jsonl":
            venv.parent.mkdir(parents=True)
            venv.symlink_to(jsonl_venv, target_is_directory=True)
        else:
            coupa_venv(venv)
        mark_installed(venv, definitions[name]["pip_url"], root)
    return project


def records(folder: Path) -> int:
    """RECORD messages target-jsonl wrote for STREAM."""
    files = list(folder.rglob(f"{STREAM}*.jsonl"))
    assert files, f"target-jsonl wrote no {STREAM} file under {folder}"
    return sum(1 for f in files for line in f.read_text().splitlines() if line.strip())


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_every_setting_reaches_the_plugins(
    source: Source,
    way: str,
    coupa: RunningEmulator,
    jsonl_venv: Path,
    tmp_path: Path,
) -> None:
    project = make_project(source, tmp_path / "project", coupa, jsonl_venv)
    project.give(way, source.tap, TAP_SETTINGS)
    if source.has_target:
        project.give(way, "target-coupa", TARGET_SETTINGS)

    ran = project.meltano("run", source.tap, "target-jsonl")
    log = ran.stdout + ran.stderr
    assert ran.returncode == 0, log[-4000:]
    assert "Installed" not in log, "Meltano reinstalled a plugin: " + log[-4000:]
    assert "not JSON serializable" not in log
    assert "Unknown setting" not in log, log[-4000:]
    assert all(number in log for number in IN_EFFECT), log[-4000:]
    assert records(project.root / "output") == len(coupa.control.records(STREAM))

    if source.has_target:
        checked = project.meltano("invoke", "target-coupa", "--test=scopes")
        log = checked.stdout + checked.stderr
        assert checked.returncode == 0, log[-4000:]
        assert "Unknown setting" not in log, log[-4000:]
        assert all(number in log for number in IN_EFFECT), log[-4000:]
    shutil.rmtree(project.root / ".meltano", ignore_errors=True)
