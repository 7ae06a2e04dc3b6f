"""Numeric settings: what each accepts (a number or its text), its range, and one sentence if not.

Meltano 4.4 cannot pass a `kind: decimal` setting given as an environment variable: it parses
the text into a `Decimal`, which its own JSON encoder then refuses ("Object of type Decimal is
not JSON serializable") before the plugin starts. So fractional settings are declared to Meltano
as `kind: string` and accept both a JSON number and its text ("12.5"); whole-number settings stay
`kind: integer` and accept "12" too. The plugin reads the text itself, here, before the schema is
checked, so a config file, `meltano config set` and the environment all end in the same number.

Every numeric setting also has a documented maximum: a value such as 10^12 would otherwise
overflow a timer or a date computation deep inside a run instead of being named up front.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from singer_sdk import typing as th


@dataclass(frozen=True)
class NumericSetting:
    """One numeric setting: its range, whether it must be whole, and its unit for sentences."""

    name: str
    low: float
    high: float
    whole: bool
    unit: str
    default: float

    @property
    def range_text(self) -> str:
        """'from 1 to 3600 seconds': how the docs and the problem sentences state the range."""
        return f"from {_show(self.low)} to {_show(self.high)} {self.unit}".rstrip()

    def json_type(self) -> th.JSONTypeHelper[Any]:
        """The property's type: whole numbers, or a number that may also arrive as text."""
        if self.whole:
            return th.IntegerType()
        return th.CustomType({"type": ["number", "string"]})


def _show(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


#: Shared by tap and target (coupa_api.settings.CONNECTION_PROPERTIES).
REQUEST_TIMEOUT = NumericSetting("request_timeout", 1, 3600, True, "seconds", 300)
TOKEN_SETTLE_SECONDS = NumericSetting("token_settle_seconds", 0, 300, False, "seconds", 5)
MAX_REQUESTS_PER_SECOND = NumericSetting(
    "max_requests_per_second", 0, 1000, False, "requests per second", 25
)
MAX_RETRIES = NumericSetting("max_retries", 1, 100, True, "attempts", 8)
MAX_RETRY_SECONDS = NumericSetting("max_retry_seconds", 1, 86400, True, "seconds", 600)
CONNECTION_NUMBERS: tuple[NumericSetting, ...] = (
    REQUEST_TIMEOUT,
    TOKEN_SETTLE_SECONDS,
    MAX_REQUESTS_PER_SECOND,
    MAX_RETRIES,
    MAX_RETRY_SECONDS,
)
#: Tap only (tap_coupa.settings).
LOOKBACK_WINDOW = NumericSetting("lookback_window", 0, 31_536_000, True, "seconds", 0)
TAP_MAX_CONCURRENCY = NumericSetting("max_concurrency", 1, 64, True, "workers", 8)
PROGRESS_INTERVAL = NumericSetting("progress_interval", 0, 86400, True, "seconds", 10)
TAP_NUMBERS: tuple[NumericSetting, ...] = (LOOKBACK_WINDOW, TAP_MAX_CONCURRENCY, PROGRESS_INTERVAL)
#: Target only (target_coupa.settings).
TARGET_MAX_CONCURRENCY = NumericSetting("max_concurrency", 1, 64, True, "writers", 8)
TARGET_NUMBERS: tuple[NumericSetting, ...] = (TARGET_MAX_CONCURRENCY,)


def parse_number(value: Any) -> Any:
    """`value` as a number when it is one or its text ("12.5", " 12 "), else unchanged.

    Config files read by singer-sdk give fractions as Decimal; they become float (or int when
    whole), what the code and JSON expect. A bool is left alone (True is not 1 here).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = Decimal(text) if text else value
        except InvalidOperation:
            return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return value
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def coerce_numbers(config: MutableMapping[str, Any], settings: Iterable[NumericSetting]) -> None:
    """Replace, in place, each numeric setting given as text (or Decimal) by its number."""
    for setting in settings:
        if setting.name in config and config[setting.name] is not None:
            config[setting.name] = parse_number(config[setting.name])


def number_problems(config: Mapping[str, Any], settings: Iterable[NumericSetting]) -> list[str]:
    """One sentence per numeric setting that is not a number in its range."""
    problems: list[str] = []
    for setting in settings:
        raw = config.get(setting.name)
        if raw is None:
            continue
        value = parse_number(raw)
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:40] + "…"
        kind = "a whole number" if setting.whole else "a number"
        fix = f"give {kind} {setting.range_text} (default {_show(setting.default)})."
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value):
            problems.append(f"`{setting.name}` is {shown}, not a number; {fix}")
        elif setting.whole and not isinstance(value, int):
            problems.append(f"`{setting.name}` is {shown}, not a whole number; {fix}")
        elif not setting.low <= value <= setting.high:
            problems.append(f"`{setting.name}` is {shown}, out of range; {fix}")
    return problems


def limits_markdown(groups: Iterable[tuple[str, Iterable[NumericSetting]]]) -> str:
    """The docs' table of numeric settings, by plugin (docs/meltano.md; tests compare it)."""
    rows = ["| setting | plugin | accepts | default |", "|---|---|---|---|"]
    for plugin, settings in groups:
        for setting in settings:
            kind = "whole number" if setting.whole else 'number, or its text such as "12.5",'
            accepts = f"{kind} {setting.range_text}"
            rows.append(f"| {setting.name} | {plugin} | {accepts} | {_show(setting.default)} |")
    return "\n".join(rows)


LIMITS_BEGIN = "<!-- numeric settings: generated by coupa_api.numeric_settings.limits_markdown -->"
LIMITS_END = "<!-- end of numeric settings -->"
#: Every numeric setting of both plugins, as docs/meltano.md lists them.
ALL_NUMBERS: tuple[tuple[str, tuple[NumericSetting, ...]], ...] = (
    ("both", CONNECTION_NUMBERS),
    ("tap-coupa", TAP_NUMBERS),
    ("target-coupa", TARGET_NUMBERS),
)


def limits_section() -> str:
    """docs/meltano.md's generated block (tests/test_settings_sync.py compares it)."""
    return f"{LIMITS_BEGIN}\n{limits_markdown(ALL_NUMBERS)}\n{LIMITS_END}"


if __name__ == "__main__":  # `python -m coupa_api.numeric_settings docs/meltano.md`
    import sys
    from pathlib import Path

    doc = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/meltano.md")
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(LIMITS_BEGIN), text.index(LIMITS_END) + len(LIMITS_END)
    doc.write_text(text[:start] + limits_section() + text[end:], encoding="utf-8")
    print(f"{doc}: numeric settings table written")
