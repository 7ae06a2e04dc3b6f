"""Helpers for running tap-coupa against the emulator, in-process and as the CLI."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tap_coupa.tap import TapCoupa

REPO = Path(__file__).resolve().parents[2]


def tap_config(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A config for the emulator's default client, fast settings for tests."""
    config: dict[str, Any] = {
        "base_url": base_url,
        "client_id": "demo",
        "client_secret": "demo-secret",
        "token_settle_seconds": 0,
        "max_requests_per_second": 0,
        "max_retry_seconds": 60,
    }
    config.update(overrides)
    return config


@dataclass
class TapRun:
    """The Singer messages one tap run wrote."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def ids(self, stream: str) -> list[int]:
        return [r["id"] for r in self.records(stream)]

    @property
    def counts(self) -> Counter[str]:
        return Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def bookmark(self, stream: str) -> str | None:
        entry = self.final_state.get("bookmarks", {}).get(stream, {})
        value = entry.get("replication_key_value")
        return str(value) if value is not None else None


def parse_messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def last_page_query(coupa: Any, path: str = "/api/invoices") -> dict[str, list[str]]:
    """The query of the last page read from `path` (not the tenant check's `limit=1` probe).

    The tenant check and the first page go out together, so the log's last request to a path
    can be either; a page request is the one that asks for an order.
    """
    queries = [parse_qs(r["query"]) for r in coupa.control.requests_log() if r["path"] == path]
    return [q for q in queries if "order_by" in q][-1]


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Run a full sync in-process and collect what it wrote to stdout."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # the writer uses stdout.buffer
    with redirect_stdout(out):
        tap = TapCoupa(config=config, state=state, catalog=catalog, parse_env_config=False)
        tap.sync_all()
    out.flush()
    return TapRun(parse_messages(out.buffer.getvalue().decode()))


def discover(config: dict[str, Any]) -> dict[str, Any]:
    """The catalog `--discover` would print."""
    tap = TapCoupa(config=config, parse_env_config=False, setup_mapper=False)
    return copy.deepcopy(tap.catalog_dict)


def select(
    catalog: dict[str, Any],
    streams: Iterable[str],
    *,
    deselect: dict[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """Select only `streams` (all their properties but those in `deselect[stream]`)."""
    wanted = set(streams)
    dropped = {k: set(v) for k, v in (deselect or {}).items()}
    catalog = copy.deepcopy(catalog)
    for entry in catalog["streams"]:
        name = entry["tap_stream_id"]
        for item in entry["metadata"]:
            crumb = item["breadcrumb"]
            if not crumb:
                item["metadata"]["selected"] = name in wanted
            elif len(crumb) == 2 and crumb[0] == "properties":
                item["metadata"]["selected"] = crumb[1] not in dropped.get(name, set())
    return catalog


def run_cli(
    args: list[str],
    config: dict[str, Any],
    tmp_path: Path,
    *,
    executable: str = "tap-coupa",
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a connector's console script as a user would, with a config file."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    exe = str(Path(sys.executable).parent / executable)
    return subprocess.run(  # noqa: S603 - our own console script
        [exe, "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def config(coupa: Any) -> dict[str, Any]:
    """Tap config pointing at the freshly reset emulator."""
    return tap_config(coupa.base_url)


@pytest.fixture
def invoices_catalog(config: dict[str, Any]) -> dict[str, Any]:
    """A catalog selecting invoices only."""
    return select(discover(config), ["invoices"])
