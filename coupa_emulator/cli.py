"""`coupa-emulator`: serve a Coupa emulator on a local port until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
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


def _optional_float(value: str) -> float | None:
    if value.lower() in {"none", "off", "null"}:
        return None
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'off', got {value!r}") from None


def _optional_int(value: str) -> int | None:
    if value.lower() in {"none", "off", "null"}:
        return None
    try:
        return int(value)
    except ValueError:
        msg = f"expected a whole number or 'off', got {value!r}"
        raise argparse.ArgumentTypeError(msg) from None


def build_parser() -> argparse.ArgumentParser:
    """One flag per knob; --help documents each."""
    d = EmulatorConfig()
    p = _Parser(
        prog="coupa-emulator",
        description="A faithful local emulator of Coupa's Core REST API (OAuth, /api/..., "
        "faults, rate limits). Default OAuth client: demo / demo-secret, every scope.",
    )
    p.add_argument("--host", default=d.host, help=f"interface to bind (default {d.host})")
    p.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    p.add_argument("--seed", type=int, default=d.seed, help=f"data seed (default {d.seed})")
    p.add_argument(
        "--scale",
        type=int,
        default=d.scale,
        help=f"number of invoices; other resources scale with it (default {d.scale})",
    )
    p.add_argument(
        "--tenant-profile",
        choices=PROFILES,
        default=d.tenant_profile,
        help="custom-field layout of the tenant (default acme)",
    )
    p.add_argument(
        "--settle-seconds",
        type=float,
        default=d.settle_seconds,
        help="a new token is refused (401) for this long (default 5)",
    )
    p.add_argument(
        "--expires-in",
        type=int,
        default=d.expires_in,
        help="token lifetime in seconds (default 86399)",
    )
    p.add_argument(
        "--latency-ms", type=float, default=d.latency_ms, help="added to every request (default 0)"
    )
    p.add_argument(
        "--rate-limit",
        type=_optional_float,
        default=d.rate_limit,
        help="requests per second per client, token bucket; 'off' = none (default off)",
    )
    p.add_argument("--burst", type=int, default=d.burst, help="token bucket size (default 20)")
    p.add_argument(
        "--retry-after",
        type=_optional_float,
        default=d.retry_after,
        help="seconds to send in Retry-After with 429 (default: no header, like Coupa)",
    )
    p.add_argument(
        "--quota",
        type=_optional_int,
        default=d.quota,
        help="a gateway's quota: requests per --quota-window per client, then 429 (default off)",
    )
    p.add_argument(
        "--quota-window",
        type=float,
        default=d.quota_window,
        help="seconds of one quota window (default 60)",
    )
    p.add_argument(
        "--rate-limit-headers",
        choices=HEADER_STYLES,
        default=d.rate_limit_headers,
        help="rate-limit headers sent with the quota: ietf (RateLimit/RateLimit-Policy), "
        "ietf-dict, ietf-old (RateLimit-Limit/-Remaining/-Reset), x-ratelimit, none (default)",
    )
    p.add_argument(
        "--faults",
        type=_faults,
        default=[],
        help="fault rules: a JSON list or a path to a JSON file (see docs/emulator-control.md)",
    )
    p.add_argument(
        "--stable-order",
        action="store_true",
        help="without order_by, return id ascending (default: unstable order)",
    )
    p.add_argument(
        "--clock-offset-seconds",
        type=float,
        default=d.clock_offset_seconds,
        help="seconds added to the instance clock (updated-at, Date header); default 0",
    )
    for flag, what in (
        ("missing", '404 "No route matches" (a collection this tenant lacks)'),
        ("unlicensed", "403 (a module this tenant has not licensed)"),
        ("failing", "503 to every request (broken on this tenant)"),
    ):
        p.add_argument(
            f"--{flag}-collection",
            dest=f"{flag}_collections",
            action="append",
            default=[],
            metavar="PATH",
            help=f"answer {what} for PATH and below, e.g. /api/budget_lines or "
            "/api/suppliers/{id}/addresses; repeatable",
        )
    return p  # fmt: skip


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
        config = EmulatorConfig(
            host=args.host,
            port=args.port,
            seed=args.seed,
            scale=args.scale,
            tenant_profile=args.tenant_profile,
            settle_seconds=args.settle_seconds,
            expires_in=args.expires_in,
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
            burst=args.burst,
            retry_after=args.retry_after,
            quota=args.quota,
            quota_window=args.quota_window,
            rate_limit_headers=args.rate_limit_headers,
            faults=args.faults,
            stable_order=args.stable_order,
            clock_offset_seconds=args.clock_offset_seconds,
            missing_collections=args.missing_collections,
            unlicensed_collections=args.unlicensed_collections,
            failing_collections=args.failing_collections,
        )
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
