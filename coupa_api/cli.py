"""Command-line behaviour shared by tap and target: outcomes as sentences and exit codes.

One mechanism for both plugins:
- `CoupaPluginMixin` (first base of TapCoupa and TargetCoupa): config validation whose
  messages never show a secret setting's value, the run's secrets fed to coupa_api.redact,
  records counted per stream, and SIGTERM/SIGINT turned into an `Interrupted` exit that says
  what was done;
- `explain_errors` (around the click command): every outcome mapped to an ExitCode
  (coupa_api/exitcodes.py, docs/reliability.md), every error a paragraph instead of a
  traceback, and a final log line "<plugin> finished: <outcome> (exit N)".
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

import click
import requests
import simplejson  # type: ignore[import-untyped]  # singer-sdk reads JSON files with it
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults
from typing_extensions import override

from coupa_api import redact as redaction
from coupa_api.errors import CoupaError
from coupa_api.exitcodes import ExitCode, describe
from coupa_api.numeric_settings import NumericSetting, coerce_numbers
from coupa_api.retry import transport_message
from coupa_api.singer_files import catalog_problem, state_problem, unwrap_meltano_state

#: Options whose value is a JSON file the SDK reads; checked before the SDK sees them.
JSON_FILE_OPTIONS = ("--config", "--catalog", "--state")
#: Options after which no run happens, so no final outcome line is logged.
INFORMATIONAL_OPTIONS = ("--about", "--version", "--help")
#: A run that only writes the catalog (its final line says so: see `finish`).
DISCOVER_OPTION = "--discover"


class _Cli:
    """Process-wide: whether `explain_errors` is running this process's command."""

    active = False


class SettingsProblem(Exception):  # noqa: N818 - carries the SDK's ConfigValidationError
    """A ConfigValidationError on its way past singer-sdk's handler (which would exit 1)."""

    def __init__(self, original: ConfigValidationError) -> None:
        super().__init__(str(original))
        self.original = original


class Interrupted(SystemExit):
    """SIGTERM or SIGINT stopped the run; the last STATE emitted is safe to resume from."""

    def __init__(self, signum: int) -> None:
        super().__init__(int(ExitCode.INTERRUPTED))
        self.signum = signum


# -- config validation that never shows a secret ------------------------------------------------
#: Said once when required settings are missing: under Meltano the usual cause is a command
#: that ignores `default_environment` (docs/troubleshooting.md, "Selection").
MISSING_SETTING_HINT = (
    "Give missing settings in the config file or their environment variables. Under Meltano, "
    "`meltano select` and `meltano config` ignore `default_environment`: add "
    "`--environment=dev` (or the environment that sets them)."
)


def config_error_message(error: Any, secrets: Sequence[str]) -> str:
    """The SDK's message for a jsonschema ValidationError, never with a secret setting's value.

    jsonschema puts the offending value in its message ("['x'] is not of type 'string'"); for
    a setting marked secret (or the whole config, which holds them) the message is rewritten
    from the schema keyword alone.
    """
    path = list(error.absolute_path)
    where = f" in config[{']['.join(repr(p) for p in path)}]" if path else ""
    touches_secret = (path and path[0] in secrets) or (
        not path and error.validator not in {"required", "additionalProperties"}
    )
    if not touches_secret:
        return redaction.redact(f"{error.message}{where}")
    name = f"`{path[0]}`" if path else "The config"
    expected = error.validator_value
    if error.validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(str(k) for k in kinds if k != "null") or "null"
        return (
            f"{name} has the wrong type: it must be a {wanted} (its value is not shown "
            "because the setting is secret)."
        )
    return (
        f"{name} does not satisfy the schema's '{error.validator}' rule (its value is not "
        "shown because the setting is secret)."
    )


def unknown_setting_warnings(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """One sentence per setting the plugin does not have (a typo passes a schema silently).

    Known: the plugin's own settings and the SDK's built-in ones (`append_builtin_config`);
    keys starting with '_' are left alone (Meltano's convention for its own extras). Only key
    names are shown, never a value.
    """
    known = sorted(schema.get("properties") or {})
    warnings: list[str] = []
    for key in sorted(str(k) for k in config):
        if key in known or key.startswith("_"):
            continue
        shown = key if len(key) <= 60 else key[:60] + "…"
        import difflib  # noqa: PLC0415 - only for an unknown key; keeps it off `--about`

        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close:
            fix = f"did you mean `{close[0]}`? Rename it; as written it is ignored."
        else:
            fix = f"it is ignored. The settings are: {', '.join(known)}."
        warnings.append(f"Unknown setting `{shown}`: {fix}")
    return warnings


class CountingWriter(GenericSingerWriter[Any, Any]):
    """The plugin's message writer, counting RECORD messages per stream on the way."""

    def __init__(self, inner: GenericSingerWriter[Any, Any], counts: Counter[str]) -> None:
        self.inner = inner
        self.counts = counts

    @override
    def serialize_message(self, message: Any) -> Any:
        """As the wrapped writer does."""
        return self.inner.serialize_message(message)

    @override
    def write_message(self, message: Any) -> None:
        """Count a RECORD, then write it as the wrapped writer does."""
        if message.type == "RECORD":
            self.counts[message.stream] += 1
        self.inner.write_message(message)


if TYPE_CHECKING:
    # For the type checker only: the mixin is always combined with singer-sdk's Tap or Target,
    # so `@override` checks its hooks against PluginBase (a renamed hook is a mypy error).
    from singer_sdk.plugin_base import PluginBase as _PluginBase
else:
    _PluginBase = object


class CoupaPluginMixin(_PluginBase):
    """What tap-coupa and target-coupa share on top of singer-sdk's plugin base.

    Put it first among the bases: it overrides singer-sdk's `_validate_config` (and writes the
    `_config` dict it validates) and `_handle_termination`: no public hooks in singer-sdk 0.54,
    pinned in tests/wire/test_cli_sdk_pins.py. It also wraps the plugin's `message_writer` to
    count the RECORD messages it writes (`records_written`).
    """

    #: Numeric settings read from text as well as numbers (coupa_api.numeric_settings).
    numeric_settings: ClassVar[tuple[NumericSetting, ...]] = ()
    #: What to write instead, for settings whose JSON-schema message would not say it (anyOf).
    shape_hints: ClassVar[dict[str, str]] = {}
    #: The tap's writer (singer-sdk's BaseSingerWriter sets it); the target has none.
    message_writer: GenericSingerWriter[Any, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The SDK's init, then count what the plugin writes (`records_written`)."""
        super().__init__(*args, **kwargs)
        self.records_written: Counter[str] = Counter()
        writer = getattr(self, "message_writer", None)  # a tap; the target writes only STATE
        if isinstance(writer, GenericSingerWriter):
            self.message_writer = CountingWriter(writer, self.records_written)

    # -- config ---------------------------------------------------------------------------------
    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """singer-sdk's schema validation (defaults filled in), with secret-safe messages.

        The run's secret values are registered for redaction first, so that no later message
        can show them either. Private: singer-sdk 0.54 has no public hook to validate or
        normalise the config once the environment is merged in (requested in meltano/sdk#1309,
        closed as stale); this is the method its `__init__` calls.
        """
        # The SDK's own dict (private `_config`; `config` is a read-only view of it): numeric
        # settings given as text are converted in place, so the plugin and the SDK read numbers.
        # No public way to change the config exists in singer-sdk 0.54.
        config: dict[str, Any] = self._config
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        secrets = redaction.register_config(config, schema)
        coerce_numbers(config, self.numeric_settings)
        validator = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)(schema)
        numeric = {setting.name for setting in self.numeric_settings}
        raw = [
            e
            for e in validator.iter_errors(config)
            if next(iter(e.absolute_path), None) not in numeric
        ]  # a numeric setting gets its own sentence from check_config (its range, its default)
        for warning in unknown_setting_warnings(config, schema):
            self.logger.warning("%s", warning)
        errors = [config_error_message(e, secrets) for e in raw]
        for index, error in enumerate(raw):
            key = next(iter(error.absolute_path), None)
            if key in self.shape_hints and key not in secrets:
                shown = redaction.redact(repr(error.instance))[:80]
                errors[index] = f"`{key}` is {shown}; write {self.shape_hints[key]}."
        errors = list(dict.fromkeys(errors))
        if any(e.validator == "required" and not list(e.absolute_path) for e in raw):
            errors.append(MISSING_SETTING_HINT)
        if errors and raise_errors:
            problem = ConfigValidationError("Config validation failed", errors=errors)
            if _Cli.active:
                # singer-sdk's --discover catches ConfigValidationError and exits 1 itself.
                raise SettingsProblem(problem)
            raise problem
        if errors:
            self.logger.warning("Config validation failed")
        elif self.numeric_settings:
            self.logger.info(
                "Numeric settings in effect: %s.",
                ", ".join(
                    f"{setting.name}={config.get(setting.name, setting.default)!r}"
                    for setting in self.numeric_settings
                ),
            )
        return errors

    # -- what was done ----------------------------------------------------------------------
    def interruption_report(self) -> str:
        """What the run had done when it was stopped (a plugin may say more)."""
        counts = self.__dict__.get("records_written") or Counter()
        if not counts:
            return "No records had been emitted."
        done = ", ".join(f"{stream} {n}" for stream, n in sorted(counts.items()))
        return f"Records emitted per stream: {done} ({sum(counts.values())} in all)."

    # -- signals --------------------------------------------------------------------------------
    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """Let singer-sdk emit the last STATE (tap) or drain (target), then stop with exit 4.

        singer-sdk would exit 0 here, reporting success for a partial run. Private: singer-sdk
        0.54 installs this method as its SIGTERM/SIGINT handler at the end of
        `PluginBase.__init__` and has no public shutdown hook (the handler came with
        meltano/sdk#2620; meltano/sdk#3698, merged upstream but not in 0.54.9, makes it
        ignore a second signal).
        Wrapping what `signal.getsignal` returns after `__init__` would avoid the name, but the
        SDK's exit-0 handler would then be in charge while `Tap.__init__` builds the streams
        (discovery can make requests there).
        """
        if self.__dict__.get("_interrupting"):
            return  # a second signal while we are already stopping
        self.__dict__["_interrupting"] = True
        signame = signal.Signals(signum).name
        self.logger.warning("%s received %s; stopping.", self.name, signame)
        try:
            super()._handle_termination(signum, frame)
        except SystemExit:
            pass  # singer-sdk's exit(0); we exit INTERRUPTED instead
        except Exception as exc:
            self.logger.warning("Could not emit a final STATE on %s (%s).", signame, exc)
        try:
            report = self.interruption_report()
        except Exception as exc:
            report = f"(no summary: {exc})"
        self.logger.warning(
            "%s was interrupted by %s before the run completed. %s The last STATE message "
            "emitted is safe to resume from: run again with it (Meltano keeps it for you) "
            "and nothing is lost or skipped.",
            self.name,
            signame,
            report,
        )
        raise Interrupted(signum)


# -- files given on the command line ------------------------------------------------------------
def json_file_problem(option: str, value: str) -> str | None:  # noqa: PLR0911 - one per problem
    """Why the JSON file given to `option` cannot be used (None when it can, or is ENV)."""
    if option == "--config" and value == "ENV":
        return None
    path = Path(value)
    if not path.exists():
        return f"{option} {value}: no such file. Check the path given to {option}."
    if path.is_dir():
        return f"{option} {value} is a directory; give the path of a JSON file instead."
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"{option} {value} cannot be read ({reason}); check its permissions."
    except UnicodeDecodeError:
        return f"{option} {value} is not UTF-8 text; give a JSON file."
    try:
        content = json.loads(text)
    except ValueError as exc:
        return f"{option} {value} is not valid JSON ({exc}); check the file."
    if not isinstance(content, dict):
        return f"{option} {value} holds a JSON {type(content).__name__}, not an object."
    if option == "--state":
        return state_problem(unwrap_meltano_state(content)[0], f"--state {value}")
    if option == "--catalog":
        return catalog_problem(content, f"--catalog {value}")
    return None


def command_line_problems(argv: Sequence[str]) -> list[str]:
    """One sentence per unusable JSON file given as --config, --catalog or --state."""
    problems: list[str] = []
    for index, arg in enumerate(argv):
        option, _, value = arg.partition("=")
        if option not in JSON_FILE_OPTIONS:
            continue
        if not value:
            if index + 1 >= len(argv):
                continue  # click reports the missing value
            value = argv[index + 1]
        if problem := json_file_problem(option, value):
            problems.append(problem)
    return problems


# -- the command ----------------------------------------------------------------------------------
def _exit_code(value: object) -> ExitCode:
    if value is None:
        return ExitCode.OK
    if isinstance(value, int):
        try:
            return ExitCode(value)
        except ValueError:
            return ExitCode.FAILED
    return ExitCode.FAILED  # sys.exit("message") prints the message and exits 1


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def outcome(  # noqa: PLR0911 - one branch per kind of outcome
    exc: BaseException, logger: logging.Logger
) -> ExitCode:
    """Log what `exc` means for the user, once, and return the exit code it maps to."""
    if isinstance(exc, SettingsProblem):
        exc = exc.original
    if isinstance(exc, Interrupted):
        return ExitCode.INTERRUPTED
    if isinstance(exc, SystemExit):
        return _exit_code(exc.code)
    if isinstance(exc, KeyboardInterrupt):
        logger.warning("Interrupted before the run started.")
        return ExitCode.INTERRUPTED
    if isinstance(exc, ConfigValidationError):
        for error in exc.errors or [str(exc)]:
            logger.error("Setting problem: %s", error)
        logger.error("%s; fix the settings above and run again.", exc)
        return ExitCode.CONFIG
    if isinstance(exc, CoupaError):
        logger.error("%s", exc)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        # Nothing more can be written to stdout; point it at /dev/null so that the exit does
        # not print a second BrokenPipeError while flushing (Python's documented remedy).
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        logger.error(
            "The program reading this one's output closed the pipe before the run ended; see "
            "its own messages above for why."
        )
        return ExitCode.FAILED
    if isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError):
        logger.error("%s Check the path given to --config, --catalog, --state or --input.", exc)
        return ExitCode.CONFIG
    if isinstance(exc, json.JSONDecodeError | simplejson.JSONDecodeError):
        logger.error(
            "A JSON file given on the command line is not valid JSON (%s). Check the "
            "file passed to --config, --catalog or --state.",
            exc,
        )
        return ExitCode.CONFIG
    if isinstance(exc, requests.exceptions.RequestException):
        request = getattr(exc, "request", None)
        url = str(getattr(request, "url", "") or "")
        sentence = transport_message(exc, url) if url else None
        logger.error("%s", sentence or f"The request to Coupa failed: {exc}")
        return ExitCode.FAILED
    logger.error("%s", exc or type(exc).__name__, exc_info=exc)
    return ExitCode.FAILED


def finish(code: ExitCode, logger: logging.Logger, *, discovery: bool = False) -> None:
    """Log the final line and exit with `code` (at once when interrupted).

    A successful `--discover` says "catalog written", not "completed": Meltano runs discovery
    before the sync, and two "completed" lines in one `meltano run` read as two runs.
    """
    level = {
        ExitCode.OK: logging.INFO,
        ExitCode.REJECTED: logging.WARNING,
        ExitCode.INTERRUPTED: logging.WARNING,
    }.get(code, logging.ERROR)
    words = "catalog written" if discovery and code is ExitCode.OK else describe(code)
    logger.log(level, "%s finished: %s (exit %d)", logger.name, words, int(code))
    if code is ExitCode.INTERRUPTED:
        # Worker threads may be blocked in a request for minutes; everything worth keeping
        # (the last STATE, the dead letters, the report) is written, so do not wait for them.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        logging.shutdown()
        os._exit(int(code))
    sys.exit(int(code))


def explain_errors(command: click.Command, logger: logging.Logger) -> click.Command:
    """Make `command` exit with a documented code and say why, in sentences.

    Wraps `main`, not `invoke`: `--discover` and `--test` run as eager option callbacks while
    click parses arguments, before `invoke`. singer-sdk would log any other exception with its
    traceback; ours are written for the user, so a traceback would only bury what to fix.
    """
    main = command.main
    callback = command.callback

    def callback_explaining(*args: Any, **kwargs: Any) -> Any:
        assert callback is not None  # noqa: S101 - singer-sdk's commands have one
        try:
            return callback(*args, **kwargs)
        except ConfigValidationError as exc:
            raise SettingsProblem(exc) from exc

    def main_explaining(*args: Any, **kwargs: Any) -> Any:
        _Cli.active = True
        redaction.install_log_redaction()
        argv = list(kwargs.get("args") or (args[0] if args else sys.argv[1:]))
        if any(arg in INFORMATIONAL_OPTIONS for arg in argv):
            return main(*args, **kwargs)
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, _raise_interrupted)  # until the plugin installs its own
        if problems := command_line_problems(argv):
            for problem in problems:
                logger.error("%s", problem)
            finish(ExitCode.CONFIG, logger)
        try:
            main(*args, **kwargs)
        except BaseException as exc:
            code = outcome(exc, logger)
        else:
            code = ExitCode.OK
        finish(code, logger, discovery=DISCOVER_OPTION in argv)
        return None

    command.main = main_explaining  # type: ignore[method-assign]
    command.callback = callback_explaining
    return command
