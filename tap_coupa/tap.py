"""TapCoupa: settings, the shared Coupa connection, and the stream registry."""

from __future__ import annotations

import contextlib
import gc
import io
import json
from functools import cached_property
from typing import Any, ClassVar

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.about import python_versions
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TapCapabilities,
)
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib import Catalog
from typing_extensions import override

from coupa_api.cli import CoupaPluginMixin, explain_errors
from coupa_api.client import CoupaClient
from coupa_api.numeric_settings import CONNECTION_NUMBERS, TAP_NUMBERS
from coupa_api.scopecheck import SCOPES_TEST
from coupa_api.settings import CONNECTION_PROPERTIES, connection_problems
from coupa_api.singer_files import MELTANO_STATE_KEY, state_problem, unwrap_meltano_state
from tap_coupa import about, connection_check, deletions, tenant
from tap_coupa.client import CoupaStream
from tap_coupa.custom_fields import PREFIX, SOURCE, flattening_clashes
from tap_coupa.discovery import discover_schemas
from tap_coupa.extra_streams import (
    EXTRA_STREAMS_PROPERTY,
    extra_stream_problems,
    stream_classes,
)
from tap_coupa.output import BufferedMsgSpecWriter
from tap_coupa.progress import ProgressReporter, quiet_per_request_metrics
from tap_coupa.settings import SHAPE_HINTS, TAP_PROPERTIES, tap_problems
from tap_coupa.state_input import foreign_bookmarks
from tap_coupa.stats import StreamStats
from tap_coupa.streams import STREAMS
from tap_coupa.streams.catalog_doc import streams_markdown


class TapCoupa(CoupaPluginMixin, Tap):
    """Singer tap for Coupa's Core REST API: incremental, keyset-paged, custom-field aware."""

    name = "tap-coupa"
    config_jsonschema = th.PropertiesList(
        *CONNECTION_PROPERTIES, *TAP_PROPERTIES, EXTRA_STREAMS_PROPERTY
    ).to_dict()
    numeric_settings = (*CONNECTION_NUMBERS, *TAP_NUMBERS)
    shape_hints = SHAPE_HINTS
    #: Discovery samples the instance (custom fields differ per tenant), so it needs config.
    dynamic_catalog = True
    #: msgspec instead of simplejson (the SDK's default writer is a third of the tap's CPU),
    #: and no flush per message (tap_coupa.output).
    message_writer_class = BufferedMsgSpecWriter
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.TEST,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    #: The tenant check ran (check_tenant): once per run.
    _tenant_checked = False
    #: Input-catalog entries this run neither reads nor needs (`setup_mapper`): no stream map
    #: and no stream object is built for them.
    _unread: frozenset[str] = frozenset()

    @cached_property
    def coupa(self) -> CoupaClient:
        """The run's one connection: token, limiter and retry policy shared by every stream."""
        return CoupaClient(self.config, scopes=self.required_scopes, logger=self.logger)

    @cached_property
    def stats(self) -> dict[str, StreamStats]:
        """Per-stream counters (tap_coupa.stats), filled in as streams read; for progress."""
        return {}

    @cached_property
    def progress(self) -> ProgressReporter:
        """Progress lines while streams read and the end-of-run summary (tap_coupa.progress)."""
        quiet_per_request_metrics(self.logger)
        return ProgressReporter(
            self.stats,
            self.coupa.limiter.counters,
            self.logger,
            interval=float(self.config.get("progress_interval", 10) or 0),
        )

    def required_scopes(self) -> list[str]:
        """The `scopes` setting, or the least set the selected streams need."""
        configured = self.config.get("scopes")
        if configured:
            return list(configured)
        return sorted(
            {
                stream.scope
                for stream in self.streams.values()
                if isinstance(stream, CoupaStream)
                and (stream.selected or stream.has_selected_descendents)
            }
        )

    def check_tenant(self, first: CoupaStream | None = None) -> None:
        """Once per run, before the first SCHEMA: every selected collection answers.

        Called from the first stream's sync (CoupaStream.get_replication_key_signpost, which
        singer-sdk's final `Stream.sync` calls before anything else it writes): a collection
        this tenant lacks stops the run before any record (tap_coupa.tenant). The first page
        of `first`, the stream about to be read, is requested at the same time.
        """
        if not self._tenant_checked:
            self._tenant_checked = True
            tenant.check_selected(
                self.coupa,
                list(self.streams.values()),
                alongside=None if first is None else first.read_first_page,
            )

    def check_config(self) -> None:
        """Raise one ConfigValidationError listing every setting that cannot work."""
        problems = connection_problems(self.config)
        builtin = [cls.name for cls in STREAMS]  # type: ignore[misc]
        problems += extra_stream_problems(self.config, builtin)
        names = [cls.name for cls in self.all_stream_classes]  # type: ignore[misc]
        problems += tap_problems(self.config, names)
        problems += deletions.problems(self.config, self.all_stream_classes)
        if problems:
            msg = "tap-coupa settings need attention"
            raise ConfigValidationError(msg, errors=problems)

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """The SDK's, after unwrapping Meltano's form and dropping other taps' bookmarks."""
        state, wrapped = unwrap_meltano_state(state)
        if wrapped:
            self.logger.info(
                'The input state is in Meltano\'s wrapped form ({"%s": ...}, as `meltano '
                "state get` prints it); reading the Singer state inside it.",
                MELTANO_STATE_KEY,
            )
        if problem := state_problem(state, "The input state"):
            raise ConfigValidationError(problem, errors=[problem])
        keys = [
            (cls.name, getattr(cls, "replication_key", None))  # type: ignore[misc]
            for cls in self.all_stream_classes
        ]
        classes = [(str(name), key if isinstance(key, str) else None) for name, key in keys]
        state, warning = foreign_bookmarks(state, classes)
        if warning:
            self.logger.warning("%s", warning)
        super().load_state(state)

    @override
    def setup_mapper(self) -> None:
        """The SDK's, with the stream maps of the catalog entries the run reads or needs.

        A catalog lists every stream (76 and more) and usually selects a few: building a
        stream map and a stream for each deselected one cost about a tenth of a second per
        run, for streams singer-sdk then skips. Deselected entries that no selected stream
        descends from are left out (`_unread`) unless `stream_maps` or flattening is
        configured, where every entry is registered as before (a map may name any stream).
        """
        catalog = self.input_catalog
        if catalog is not None and self._flattens_custom_fields:
            self._refuse_flattening_clashes(catalog)
        self._unread = frozenset() if catalog is None else self._unread_entries(catalog)
        if catalog is None or not self._unread:
            super().setup_mapper()
            return
        PluginBase.setup_mapper(self)
        read = Catalog({name: entry for name, entry in catalog.items() if name not in self._unread})
        self.mapper.register_raw_streams_from_catalog(read)

    @property
    def _flattens_custom_fields(self) -> bool:
        """singer-sdk's flattening makes the `custom-fields__<name>` columns from the object."""
        config = self.config
        return bool(
            config.get("flattening_enabled")
            and config.get("flattening_separator", "__") == "__"
            and (config.get("flattening_max_depth") or 0) >= 1
        )

    def _refuse_flattening_clashes(self, catalog: Catalog) -> None:
        """One paragraph, not singer-sdk's ValueError, when flattening would duplicate columns.

        singer-sdk flattens every entry's schema (deselected ones too), so all are checked.
        """
        clashing = flattening_clashes(
            {name: entry.schema.to_dict() for name, entry in catalog.items()}
        )
        if clashing:
            selected = {n for n, e in catalog.items() if e.metadata.resolve_selection()[()]}
            ordered = sorted(clashing, key=lambda name: (name not in selected, name))
            more = ", ..." if len(ordered) > 5 else ""
            shown = f"{len(ordered)} streams ({', '.join(ordered[:5])}{more})"
            problem = (
                f"flattening_enabled: the catalog's schemas of {shown} have "
                f"`{PREFIX}<name>` columns (custom_fields_as_columns) as well as the "
                f"`{SOURCE}` object that flattening turns into columns of the same names. "
                "Discover the catalog again with flattening on (tap-coupa then leaves those "
                "columns to flattening; under Meltano: `meltano run --refresh-catalog ...`), "
                "or turn flattening off."
            )
            raise ConfigValidationError(problem, errors=[problem])

    def _unread_entries(self, catalog: Catalog) -> frozenset[str]:
        """Deselected catalog entries of known streams that no other stream of the run needs.

        A stream is needed when its entry selects it or it has no entry (singer-sdk then
        decides by its defaults, as before), and so is every parent it is read through.
        """
        if self.config.get("stream_maps") or self.config.get("flattening_enabled"):
            return frozenset()
        classes = self.all_stream_classes
        needed: set[str] = set()
        for cls in classes:
            entry = catalog.get(cls.name)  # type: ignore[misc]
            if entry is not None and not entry.metadata.resolve_selection()[()]:
                continue
            parent: type[CoupaStream] | None = cls
            while parent is not None:
                needed.add(parent.name)  # type: ignore[misc]
                parent = parent.parent_stream_type  # type: ignore[assignment]
        known = {cls.name for cls in classes}  # type: ignore[misc]
        return frozenset(n for n in catalog if n in known and n not in needed)

    @override
    def discover_streams(self) -> list[CoupaStream]:
        """Streams with the input catalog's schemas, or schemas discovered from the instance.

        With an input catalog, deselected entries no selected stream needs get no stream
        (`setup_mapper`); singer-sdk would only have logged that it skips them, which is
        logged here instead.
        """
        self.check_config()
        classes = self.all_stream_classes
        catalog = self.input_catalog
        if catalog is not None:
            unread = self._unread
            for cls in classes:
                if cls.name in unread:  # type: ignore[misc]
                    self.logger.info("Skipping deselected stream '%s'.", cls.name)  # type: ignore[misc]
            classes = [cls for cls in classes if cls.name not in unread]  # type: ignore[misc]
            schemas = {
                entry.tap_stream_id: entry.schema.to_dict()
                for entry in catalog.streams
                if entry.tap_stream_id not in unread
            }
            if not any(entry.metadata.resolve_selection()[()] for entry in catalog.streams):
                self.logger.warning(
                    "The catalog selects no stream, so this run reads nothing. Mark the streams "
                    'to read with `"selected": true` in their metadata (under Meltano: `meltano '
                    "select tap-coupa <stream> '*'`), or leave --catalog out to read every "
                    "stream."
                )
        else:
            schemas = discover_schemas(
                self.coupa,
                classes,
                self.logger,
                custom_columns=bool(self.config.get("custom_fields_as_columns", True))
                and not self._flattens_custom_fields,
            )
        streams = [cls(self, schema=schemas.get(cls.name)) for cls in classes]  # type: ignore[misc]
        deletions.add_marker_column(streams, self.config)
        return streams

    @property
    def all_stream_classes(self) -> list[type[CoupaStream]]:
        """Built-in streams, then those declared in `extra_streams` (one factory builds all)."""
        try:
            return stream_classes(self.config)
        except (KeyError, TypeError, AttributeError, ValueError):
            return list(STREAMS)  # invalid entries: check_config names them

    @override
    @classmethod
    def get_plugin_version(cls) -> str:
        """The SDK's answer, from the METADATA header only (tap_coupa.about)."""
        return about.version(cls.package_name or cls.name) or super().get_plugin_version()

    @override
    @classmethod
    def get_sdk_version(cls) -> str:
        """The SDK's answer, from the METADATA header only (tap_coupa.about)."""
        return about.version(about.SDK_PACKAGE) or super().get_sdk_version()

    @override
    @classmethod
    def get_supported_python_versions(cls) -> list[str] | None:
        """The SDK's answer, from the METADATA header only (tap_coupa.about)."""
        found = about.headers(cls.package_name or cls.name)
        return None if found is None else python_versions(found)  # type: ignore[arg-type]

    @override
    @classmethod
    def print_about(cls, output_format: str | None = None) -> None:
        """The SDK's `--about`, plus every stream with its endpoint, scope and replication.

        Text and Markdown: the SDK's output, then a `Streams` section (the SDK's template
        would mis-indent a multi-line description). JSON carries the table in `description`:
        the SDK's document is parsed and written again with it (the SDK builds the document
        in a private method, `_get_about_info`; its printed output is the public contract).
        """
        fmt = output_format or "text"
        table = streams_markdown(STREAMS)
        if fmt != "json":
            super().print_about(fmt)
            print(f"\n## Streams\n\n{table}")
            return
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            super().print_about(fmt)
        document = json.loads(printed.getvalue())
        document["description"] = f"{document['description']}\n\n{table}"
        print(json.dumps(document, indent=2, default=str))

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test=scopes` checks the client's access (tap_coupa.connection_check)."""
        if value == SCOPES_TEST:
            ctx.exit(int(connection_check.run(cls, ctx)))
        super().cb_test(ctx, param, value)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, reporting Coupa errors as sentences instead of tracebacks."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name == "test" and isinstance(param, click.Option):
                param.help = (
                    f"{param.help} Use --test={SCOPES_TEST} (after --config and --catalog) to "
                    "check, with one cheap request per selected stream, that the OAuth client "
                    "may read each, and which scope to grant otherwise."
                )
        return explain_errors(command, cls.logger)


def main() -> Any:
    """Console entry point.

    What the imports built (modules, classes, schemas: ~50,000 objects) lives until exit, so
    it is frozen out of the cyclic collector's sight: the collection at interpreter exit then
    skips it (measured: 6% of the instructions `--about` executes). `get_records` unfreezes
    everything when its stream ends, as before.
    """
    gc.freeze()
    return TapCoupa.cli()
