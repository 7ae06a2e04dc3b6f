"""`target-coupa --test=scopes`: whether this client may do what a write run needs.

Every scope the target will request (the `scopes` setting, or its default set) is checked:
Coupa refuses a token for the whole set when one is missing, so the run could not start
without all of them. Read scopes are proven with one cheap read each; write scopes only at the
token endpoint, because the check never writes. The check itself is coupa_api.scopecheck.
"""

from __future__ import annotations

from typing import Any

import click

from coupa_api import scopes
from coupa_api.exitcodes import ExitCode
from coupa_api.scopecheck import SCOPES_TEST, Probe, check, report
from target_coupa.references import ACCOUNT, CURRENCY, SUPPLIER
from target_coupa.settings import LOOKUP_SCOPE

#: Where each read scope the target uses is proven, and why the target needs it.
READS: dict[str, tuple[str, str]] = {
    LOOKUP_SCOPE: ("find invoices by supplier + number", "/api/invoices"),
    SUPPLIER.scope: ("resolve suppliers (dry run)", f"/api/{SUPPLIER.resource}"),
    CURRENCY.scope: ("resolve currencies, terms, addresses, ...", f"/api/{CURRENCY.resource}"),
    ACCOUNT.scope: ("resolve accounts and account types", f"/api/{ACCOUNT.resource}"),
}
WRITES: dict[str, str] = {
    scopes.INVOICE_CREATE: "create invoices",
    scopes.INVOICE_WRITE: "update and submit invoices",
}


def target_probes(scopes: list[str]) -> list[Probe]:
    """One probe per scope the target requests, in a stable order."""
    probes: list[Probe] = []
    for scope in scopes:
        if scope in READS:
            label, path = READS[scope]
            probes.append(Probe(label, scope, path))
        else:
            probes.append(Probe(WRITES.get(scope, "requested by `scopes`"), scope))
    return probes


def run(target_class: Any, ctx: click.Context) -> ExitCode:
    """Build the target from the command line's config, check, print the report."""
    config_input = ctx.params.get("config")
    target = target_class(
        config=getattr(config_input, "config", {}) or {},
        parse_env_config=bool(getattr(config_input, "parse_env", False)),
        validate_config=True,
        setup_mapper=False,
    )
    results, how = check(target.config, target_probes(target.required_scopes()), target.logger)
    return report(
        "target-coupa",
        target.config,
        results,
        how,
        otherwise="set `scopes` without them if this run never needs them",
    )


def scope_check_option(target_class: Any) -> click.Option:
    """`--test=scopes` for target-coupa's command (singer-sdk targets have no --test)."""

    def callback(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
        if value is None:
            return
        if value != SCOPES_TEST:
            raise click.BadParameter(f"target-coupa supports --test={SCOPES_TEST} only.")
        ctx.exit(int(run(target_class, ctx)))

    return click.Option(
        ["--test"],
        is_flag=False,
        flag_value=SCOPES_TEST,
        default=None,
        expose_value=False,
        callback=callback,
        help=(
            f"--test={SCOPES_TEST} (after --config): check that the OAuth client has every "
            "scope the target requests (reads with one cheap request each, writes at the token "
            "endpoint; nothing is written), and which scope to grant otherwise."
        ),
    )
