"""`tap-coupa --test=scopes`: whether this client may read every selected stream.

The check itself is coupa_api.scopecheck, shared with target-coupa.

It runs without discovery: the streams come from `--catalog` when given (Meltano passes the
catalog it built from your selection), otherwise every stream is checked. A line stream is read
from its parent's payload, so it needs its parent's scope and endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

import click

from coupa_api.exitcodes import ExitCode
from coupa_api.scopecheck import Probe, check, report
from tap_coupa.streams import STREAMS


def selected_streams(catalog: Mapping[str, Any] | None) -> set[str] | None:
    """Names of the streams the catalog selects (None without a catalog: all of them)."""
    if catalog is None:
        return None
    names: set[str] = set()
    for entry in catalog.get("streams") or []:
        root: Mapping[str, Any] = next(
            (m.get("metadata", {}) for m in entry.get("metadata") or [] if not m.get("breadcrumb")),
            {},
        )
        if root.get("selected", root.get("selected-by-default", False)):
            names.add(str(entry.get("tap_stream_id") or entry.get("stream")))
    return names


def tap_probes(selected: set[str] | None, classes: Iterable[Any] = STREAMS) -> list[Probe]:
    """One read per selected stream, at the endpoint its records come from."""
    probes: list[Probe] = []
    for cls in classes:
        if selected is not None and cls.name not in selected:
            continue
        # A line, array or sub-resource stream is proven at its top-level ancestor's endpoint.
        source = cls
        while getattr(source, "parent_stream_type", None) is not None:
            source = source.parent_stream_type
        label = cls.name if source is cls else f"{cls.name} (in {source.name})"
        probes.append(Probe(label, cls.scope, f"/api/{source.resource or source.name}"))
    return probes


def run(tap_class: Any, ctx: click.Context) -> ExitCode:
    """Build the tap from the command line's config, check, print the report."""
    config_input = ctx.params.get("config")
    catalog_file: IO[str] | None = ctx.params.get("catalog")
    tap = tap_class(
        config=getattr(config_input, "config", {}) or {},
        parse_env_config=bool(getattr(config_input, "parse_env", False)),
        validate_config=True,
        setup_mapper=False,
    )
    tap.check_config()
    catalog = json.load(catalog_file) if catalog_file is not None else None
    probes = tap_probes(selected_streams(catalog), tap.all_stream_classes)
    if not probes:
        tap.logger.warning("The catalog selects no stream: nothing to check.")
        return ExitCode.OK
    results, how = check(tap.config, probes, tap.logger)
    return report(
        "tap-coupa", tap.config, results, how, otherwise="deselect the streams that need them"
    )
