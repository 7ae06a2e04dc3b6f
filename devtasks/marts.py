"""The dbt marts in the demo (transform/, docs/analytics.md): building them and the summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtasks.console import paragraph, say
from devtasks.meltano import TRANSFORMER, meltano, meltano_env
from devtasks.paths import LOGS
from devtasks.warehouse import QUERY_NOTES, loader_query

DBT_DONE = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)")


def mart_summary(db: Path) -> dict[str, Any]:
    """Spend rows and total, the top suppliers and the median procure-to-pay days ({} before)."""
    if not db.exists():
        return {}
    summary: dict[str, Any] = loader_query("marts", db, "the marts in")
    return summary


def build_marts(db: Path, *, full_refresh: bool) -> dict[str, Any]:
    """`meltano invoke dbt-duckdb:build` (or :full-refresh) on the demo database.

    Returns the marts' summary from before the build, for `print_marts`.
    """
    before = mart_summary(db)
    command = f"{TRANSFORMER}:{'full-refresh' if full_refresh else 'build'}"
    log = LOGS / "dbt-build.log"
    say(f"meltano invoke {command}  (staging and marts, docs/analytics.md; log: {log})")
    env = meltano_env("", {"DBT_DUCKDB_PATH": str(db)})
    meltano(["invoke", command], log, env, "Building the dbt marts")
    found = DBT_DONE.findall(log.read_text(encoding="utf-8", errors="replace"))
    if found:
        passed, warned, errors = found[-1]
        say(f"dbt build: {passed} models and tests passed, {warned} warnings, {errors} errors")
    return before


def print_marts(before: Mapping[str, Any], after: Mapping[str, Any], *, changes: bool) -> None:
    """The demo's last lines: top suppliers by spend and the median procure-to-pay days."""
    print(f"\n{QUERY_NOTES}")
    if "top" not in after:
        return
    currency = after["currency"]
    print(
        f"\nTop suppliers by spend in {currency} (analytics.fct_spend, voided invoices excluded):\n"
    )
    width = max([len("supplier"), *(len(row[0]) for row in after["top"])])
    print(f"    {'supplier'.ljust(width)}  {'spend ' + currency:>20}  {'invoices':>8}")
    for name, amount, invoices in after["top"]:
        print(f"    {name.ljust(width)}  {float(amount):>20,.2f}  {int(invoices):>8}")
    median = after.get("p2p_median")
    shown = "none paid yet" if median is None else f"{float(median):.1f} days"
    print(
        "\n"
        + paragraph(
            f"Median procure-to-pay: {shown} (requisition or order to payment, over "
            f"{after['p2p_lines']} paid order lines; analytics.fct_procure_to_pay)."
        )
    )
    if changes and "spend_rows" in before:
        print(
            paragraph(
                f"This run moved analytics.fct_spend from {before['spend_rows']} to "
                f"{after['spend_rows']} rows and its total from "
                f"{float(before['spend_total']):,.2f} to {float(after['spend_total']):,.2f} "
                f"{currency}; open payables {before.get('open_payables')} -> "
                f"{after.get('open_payables')}."
            )
        )
    print(
        '\nQuery the marts: python3 tasks.py sql "select period_month, sum(amount_reporting) '
        'from analytics.fct_spend group by 1 order by 1"'
    )
