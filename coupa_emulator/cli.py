"""`coupa-emulator`: serve a Coupa emulator on a local port until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from coupa_emulator.auth import DEFAULT_CLIENT
from coupa_emulator.config import PROFILES, ConfigError, EmulatorConfig
from coupa_emulator.faults import FaultRule
from coupa_emulator.quota import HEADER_STYLES
from coupa_emulator.server import make_app, start_site


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One clear line, not usage text plus a traceback."""
        self.exit(2, f"coupa-emulator: error: {message}\n")


def _faults(value: str) -> list[dict[str, Any]]:
    """A JSON list of fault rules, inline or in a file."""
    text = value
    if not value.lstrip().startswith("["):
        path = Path(value)
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"not a JSON list and no such file: {value}")
        text = path.read_text(encoding="utf-8")
    try:
        rules = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"faults are not valid JSON: {exc}") from None
    if not isinstance(rules, list):
        raise argparse.ArgumentTypeError("faults must be a JSON list of rules")
    try:
        for rule in rules:
            FaultRule.parse(rule)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return rules


def _or_off(parse: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    """A flag value: `parse(value)`, or None for 'off' (also 'none', 'null')."""

    def convert(value: str) -> Any:
        if value.lower() in {"none", "off", "null"}:
            return None
        try:
            return parse(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} or 'off', got {value!r}") from None

    return convert


_optional_float = _or_off(float, "a number")
_optional_int = _or_off(int, "a whole number")


@dataclass(frozen=True)
class Flag:
    """One command-line flag that sets the EmulatorConfig field `knob`."""

    knob: str
    help: str
    type: Callable[[str], Any] | None = None
    choices: Sequence[str] | None = None
    #: None: the field's EmulatorConfig default.
    default: Any = None
    #: An argparse action instead of a typed value (`store_true`, `append`).
    action: str | None = None
    #: The flag when it is not `--` + the knob's name with hyphens.
    flag: str | None = None
    metavar: str | None = None

    def add_to(self, parser: argparse.ArgumentParser, defaults: EmulatorConfig) -> None:
        """Declare the flag; its value lands in `args.<knob>`."""
        default = getattr(defaults, self.knob) if self.default is None else self.default
        options: dict[str, Any] = {"dest": self.knob, "default": default, "help": self.help}
        for name in ("type", "choices", "action", "metavar"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        parser.add_argument(self.flag or "--" + self.knob.replace("_", "-"), **options)


def _flags(d: EmulatorConfig) -> tuple[Flag, ...]:
    """Every flag, in --help order; help texts name the defaults of `d`."""
    return (
        Flag("host", f"interface to bind (default {d.host})"),
        Flag("port", "port; 0 picks a free one (default 8080)", int, default=8080),
        Flag("seed", f"data seed (default {d.seed})", int),
        Flag("scale", f"number of invoices; other resources scale with it (default {d.scale})",
             int),
        Flag("tenant_profile", "custom-field layout of the tenant (default acme)",
             choices=PROFILES),
        Flag("settle_seconds", "a new token is refused (401) for this long (default 5)", float),
        Flag("expires_in", "token lifetime in seconds (default 86399)", int),
        Flag("latency_ms", "added to every request (default 0)", float),
        Flag("rate_limit",
             "requests per second per client, token bucket; 'off' = none (default off)",
             _optional_float),
        Flag("burst", "token bucket size (default 20)", int),
        Flag("retry_after",
             "seconds to send in Retry-After with 429 (default: no header, like Coupa)",
             _optional_float),
        Flag("quota",
             "a gateway's quota: requests per --quota-window per client, then 429 (default off)",
             _optional_int),
        Flag("quota_window", "seconds of one quota window (default 60)", float),
        Flag("rate_limit_headers",
             "rate-limit headers sent with the quota: ietf (RateLimit/RateLimit-Policy), "
             "ietf-dict, ietf-old (RateLimit-Limit/-Remaining/-Reset), x-ratelimit, none "
             "(default)", choices=HEADER_STYLES),
        Flag("faults",
             "fault rules: a JSON list or a path to a JSON file (see docs/emulator-control.md)",
             _faults, default=[]),
        Flag("stable_order", "without order_by, return id ascending (default: unstable order)",
             action="store_true"),
        Flag("clock_offset_seconds",
             "seconds added to the instance clock (updated-at, Date header); default 0", float),
        *(
            Flag(f"{kind}_collections",
                 f"answer {what} for PATH and below, e.g. /api/budget_lines or "
                 "/api/suppliers/{id}/addresses; repeatable",
                 default=[], action="append", flag=f"--{kind}-collection", metavar="PATH")
            for kind, what in (
                ("missing", '404 "No route matches" (a collection this tenant lacks)'),
                ("unlicensed", "403 (a module this tenant has not licensed)"),
                ("failing", "503 to every request (broken on this tenant)"),
            )
        ),
    )  # fmt: skip


#: The EmulatorConfig fields the command line sets (the others keep their defaults).
KNOBS: tuple[str, ...] = tuple(flag.knob for flag in _flags(EmulatorConfig()))


def build_parser() -> argparse.ArgumentParser:
    """One flag per knob; --help documents each."""
    defaults = EmulatorConfig()
    parser = _Parser(
        prog="coupa-emulator",
        description="A faithful local emulator of Coupa's Core REST API (OAuth, /api/..., "
        "faults, rate limits). Default OAuth client: demo / demo-secret, every scope.",
    )
    for flag in _flags(defaults):
        flag.add_to(parser, defaults)
    return parser


async def _serve(config: EmulatorConfig) -> None:
    runner, port = await start_site(make_app(config), config.host, config.port)
    print(f"Coupa emulator listening on http://{config.host}:{port}", flush=True)
    print(f"OAuth client: {DEFAULT_CLIENT[0]} / {DEFAULT_CLIENT[1]} (every scope)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        config = EmulatorConfig(**{knob: getattr(args, knob) for knob in KNOBS})
    except ConfigError as exc:
        print(f"coupa-emulator: error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"coupa-emulator: error: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
