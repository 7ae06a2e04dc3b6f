"""Target-only settings and their checks; connection settings come from coupa_api.settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from coupa_api import scopes
from coupa_api.numeric_settings import TARGET_MAX_CONCURRENCY, TARGET_NUMBERS, number_problems

#: What a write run needs: find invoices, create and update them, and (dry run) resolve
#: references. Submit is covered by core.invoice.write / .create.
DEFAULT_SCOPES: tuple[str, ...] = (
    scopes.INVOICE_READ,
    scopes.INVOICE_WRITE,
    scopes.INVOICE_CREATE,
    scopes.read_scope("suppliers"),
    scopes.read_scope("currencies"),
    scopes.read_scope("accounts"),
)

#: Finding an invoice by its key needs this scope whatever else the run does.
LOOKUP_SCOPE = scopes.INVOICE_READ
#: Creating needs either; updating needs core.invoice.write (Coupa answers 403 otherwise).
WRITE_SCOPES: tuple[str, ...] = (scopes.INVOICE_WRITE, scopes.INVOICE_CREATE)

UNSUPPORTED_STREAM_CHOICES: tuple[str, ...] = ("error", "skip")
DEFAULT_DEAD_LETTER_PATH = "dead-letter-target-coupa.jsonl"

TARGET_PROPERTIES: tuple[th.Property[Any], ...] = (
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        title="Dry run",
        description=(
            "Look invoices up, resolve every reference and validate, log what would be "
            "created, updated or refused, and write nothing to Coupa (nor a dead-letter file). "
            "Emits no STATE, so bookmarks stay put and the real run that follows writes "
            "every invoice."
        ),
    ),
    th.Property(
        "allow_failures",
        th.BooleanType,
        default=False,
        title="Allow failures",
        description=(
            "Exit 0 even when records were rejected (they are still dead-lettered and counted). "
            "Without it, any rejected record makes the run exit 3 after everything else is written."
        ),
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        default=DEFAULT_DEAD_LETTER_PATH,
        title="Dead-letter file",
        description=(
            "JSON Lines file that receives each rejected or conflicting record with its key, the "
            "HTTP status and Coupa's own error messages. Appended to, never truncated."
        ),
    ),
    th.Property(
        "submit",
        th.BooleanType,
        default=False,
        title="Submit created invoices",
        description=(
            "Submit for approval (PUT /api/invoices/<id>/submit) every invoice the run leaves "
            "a draft: created, updated, or found identical but still a draft (a run stopped "
            "between create and submit is finished this way). Nothing is ever approved, paid "
            "or deleted."
        ),
    ),
    th.Property(
        "max_concurrency",
        TARGET_MAX_CONCURRENCY.json_type(),
        default=8,
        title="Concurrent writers",
        description=(
            "Invoices written at the same time (look-ups go 50 invoices per request). Every "
            "request still goes through the one rate limiter, so this only fills the request "
            "budget; records of the same invoice are applied in input order and STATE is "
            "emitted only after every record before it. 1 writes one invoice at a time "
            f"({TARGET_MAX_CONCURRENCY.range_text})."
        ),
    ),
    th.Property(
        "on_unsupported_stream",
        th.StringType,
        default="error",
        allowed_values=list(UNSUPPORTED_STREAM_CHOICES),
        title="Unsupported streams",
        description=(
            "What to do with a stream other than `invoices` (and `invoice_lines`, always ignored "
            "with a note: lines travel inside invoices): `error` stops the run at the stream's "
            "SCHEMA, naming the supported streams; `skip` logs a warning and counts its records "
            "as skipped."
        ),
    ),
)


def target_problems(config: Mapping[str, Any]) -> list[str]:
    """One sentence per target setting that cannot work."""
    problems: list[str] = []
    for key in ("dry_run", "allow_failures", "submit"):
        value = config.get(key)
        if value is not None and not isinstance(value, bool):
            problems.append(f"`{key}` is {value!r}; write true or false.")
    problems += number_problems(config, TARGET_NUMBERS)
    choice = config.get("on_unsupported_stream")
    if choice is not None and choice not in UNSUPPORTED_STREAM_CHOICES:
        problems.append(
            f"`on_unsupported_stream` is {choice!r}; write one of "
            f"{', '.join(UNSUPPORTED_STREAM_CHOICES)}."
        )
    path = config.get("dead_letter_path")
    if path is not None:
        problems.extend(_dead_letter_path_problems(path))
    scopes = config.get("scopes")
    if scopes and LOOKUP_SCOPE not in scopes:
        problems.append(
            f"`scopes` lacks {LOOKUP_SCOPE}, which finding invoices by supplier and number "
            "needs; add it (or leave `scopes` unset to request the target's default set)."
        )
    if scopes and not config.get("dry_run") and not set(WRITE_SCOPES) & set(scopes):
        problems.append(
            f"`scopes` has neither {' nor '.join(WRITE_SCOPES)}, so no invoice could be "
            "written; add core.invoice.write (updates need it) or set `dry_run: true`."
        )
    return problems


def _dead_letter_path_problems(raw: Any) -> list[str]:
    if not isinstance(raw, str) or not raw.strip():
        return ["`dead_letter_path` is empty; give a file path such as dead-letter.jsonl."]
    path = Path(raw).expanduser()
    if path.is_dir():
        return [f"`dead_letter_path` '{raw}' is a directory; give a file path inside it."]
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        return [f"`dead_letter_path` '{raw}': the directory {parent} does not exist; create it."]
    return []
