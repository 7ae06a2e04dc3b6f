"""The connection check: may this OAuth client do what the run needs? Asked before a long run.

A missing scope otherwise shows up as a 403 hours into a backfill, or as an `invalid_scope`
refusal that stops the whole run. The check asks Coupa the cheapest questions that answer it:

- at the token endpoint, which of the needed scopes the client is granted (one token request
  with all of them; when Coupa refuses that, one request per scope to say which are missing,
  none of those tokens is ever used);
- for each read, one request of one record with only its id (`limit=1`, `fields=["id"]`) with
  a token of the granted scopes, which also proves the instance answers and the token settles.

Writes are never tried: a write scope counts as usable when Coupa grants it at the token
endpoint. tap-coupa (`--test=scopes`) and target-coupa (`--test=scopes`) build their list of
`Probe`s; this module runs them and prints the report.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from coupa_api.auth import CoupaOAuth
from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaAuthError, CoupaError
from coupa_api.exitcodes import ExitCode
from coupa_api.query import fields_param
from coupa_api.settings import normalize_base_url, retry_policy

#: `--test=scopes`: the option value both plugins accept.
SCOPES_TEST = "scopes"
GRANT_WHERE = "Setup > Integrations > OAuth2/OpenID Connect Clients"


@dataclass(frozen=True)
class Probe:
    """One thing the run needs: read a resource (`path` set) or hold a write scope (`path` None)."""

    label: str
    scope: str
    path: str | None = None


@dataclass(frozen=True)
class Result:
    """What the check found for one probe."""

    probe: Probe
    ok: bool
    detail: str


def granted_scopes(config: Mapping[str, Any], scopes: Sequence[str]) -> tuple[set[str], str]:
    """(The scopes Coupa grants this client among `scopes`, how that was found out).

    Raises CoupaAuthError for anything but a scope refusal (wrong secret, unknown client).
    """
    if not scopes:
        return set(), "no scope needed"
    try:
        _mint(config, scopes)
    except CoupaAuthError as exc:
        if not _is_scope_refusal(exc):
            raise
    else:
        return set(scopes), "one token request"
    granted: set[str] = set()
    for scope in scopes:
        try:
            _mint(config, [scope])
        except CoupaAuthError as exc:
            if not _is_scope_refusal(exc):
                raise
        else:
            granted.add(scope)
    return granted, f"{len(scopes) + 1} token requests (Coupa refused the full set)"


def _mint(config: Mapping[str, Any], scopes: Sequence[str]) -> None:
    """Request a token for exactly `scopes`; it is never used (no settle wait)."""
    auth = CoupaOAuth(
        base_url=normalize_base_url(str(config["base_url"])),
        client_id=str(config["client_id"]),
        client_secret=str(config["client_secret"]),
        scopes=list(scopes),
        settle_seconds=0,
        timeout=min(float(config.get("request_timeout") or 60), 60.0),
        policy=retry_policy(config),
    )
    auth.update_access_token()


def _is_scope_refusal(exc: CoupaAuthError) -> bool:
    return "invalid_scope" in " ".join([str(exc), *exc.coupa_errors])


def check(
    config: Mapping[str, Any], probes: Sequence[Probe], logger: logging.Logger
) -> tuple[list[Result], str]:
    """Run every probe; returns the results and a sentence on how the scopes were checked."""
    needed = sorted({p.scope for p in probes})
    configured = set(config.get("scopes") or needed)
    granted, how = granted_scopes(config, sorted(configured & set(needed)))
    readable = sorted({p.scope for p in probes if p.path is not None and p.scope in granted})
    client = CoupaClient(config, scopes=readable, logger=logger) if readable else None
    client_id = str(config["client_id"])
    results: list[Result] = []
    for probe in probes:
        if probe.scope not in configured:
            results.append(
                Result(probe, False, f"{probe.scope} is not in the `scopes` setting; add it")
            )
        elif probe.scope not in granted:
            results.append(
                Result(
                    probe,
                    False,
                    f"not granted to client '{client_id}'",
                )
            )
        elif probe.path is None or client is None:
            results.append(Result(probe, True, "granted"))
        else:
            results.append(_read(client, probe))
    return results, how


def _read(client: CoupaClient, probe: Probe) -> Result:
    """One record, only its id: the cheapest request that proves the read is allowed."""
    assert probe.path is not None  # noqa: S101 - callers pass read probes only
    params = {"limit": 1, "fields": fields_param(["id"])}
    try:
        client.request("GET", probe.path, params=params, scope=probe.scope)
    except CoupaError as exc:
        return Result(probe, False, str(exc))
    return Result(probe, True, "readable")


def report(
    plugin: str,
    config: Mapping[str, Any],
    results: Iterable[Result],
    how: str,
    *,
    otherwise: str,
    out: TextIO = sys.stdout,
) -> ExitCode:
    """Print one line per probe and a verdict; CONFIG when anything is missing."""
    results = list(results)
    width = max((len(r.probe.label) for r in results), default=10)
    base_url = normalize_base_url(str(config["base_url"]))
    print(
        f"{plugin} connection check: {base_url} as OAuth client '{config['client_id']}' "
        f"(scopes checked with {how})",
        file=out,
    )
    for result in results:
        status = "ok" if result.ok else "MISSING"
        print(
            f"  {status:<8} {result.probe.label:<{width}}  {result.probe.scope:<32} "
            f"{result.detail}",
            file=out,
        )
    missing = sorted({r.probe.scope for r in results if not r.ok})
    if not missing:
        print(f"All {len(results)} checks passed: this client may do what the run needs.", file=out)
        return ExitCode.OK
    print(
        f"{sum(not r.ok for r in results)} of {len(results)} checks failed. Grant "
        f"{' '.join(missing)} to client '{config['client_id']}' in Coupa under {GRANT_WHERE} "
        f"(or {otherwise}), then run the check again.",
        file=out,
    )
    return ExitCode.CONFIG
