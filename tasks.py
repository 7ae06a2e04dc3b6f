#!/usr/bin/env python3
"""The project's task runner: stdlib only, so it works on a fresh machine with Python 3.11+.

    python3 tasks.py demo                      # emulator -> tap-coupa -> target-duckdb, row counts
    python3 tasks.py demo --changes 5          # edit/add 5 invoices first: an incremental load
    python3 tasks.py sql "select count(*) from invoices"
    python3 tasks.py test                      # ruff, ruff format, mypy, pytest
    python3 tasks.py test --fast               # the same without Meltano/dbt/wheel/Dagster tests
    python3 tasks.py setup                     # only create/refresh .venv (and .venv-orchestrator)
    python3 tasks.py freeze                    # rewrite constraints.txt from .venv
    python3 tasks.py hub                       # meltano-hub/ plugin definitions from --about
    python3 tasks.py orchestrator              # Dagster venv for examples/multi-tenant

Every task first makes sure `.venv` exists and holds the project with the pins from
`constraints.txt` (it reinstalls when pyproject.toml or constraints.txt change).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

MIN_PYTHON = (3, 11)
#: duckdb 1.2.2 (pinned for target-duckdb, see docs/meltano.md) ships wheels up to CPython 3.13.
MAX_DEMO_PYTHON = (3, 13)

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "constraints.txt"
STAMP = VENV / ".tasks-install-stamp"
OUTPUT = ROOT / "output"
LOGS = OUTPUT / "logs"
JUNIT = OUTPUT / "pytest-junit.xml"
DEMO_DB = OUTPUT / "demo.duckdb"
LOADER_VENV = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv"
EXTRACTOR = "tap-coupa"
LOADER = "target-duckdb"
SCHEMA = "coupa"
#: The dbt package in transform/ as a Meltano utility (meltano.yml; docs/analytics.md).
TRANSFORMER = "dbt-duckdb"

#: The emulator's built-in OAuth client (docs/emulator-control.md). Passed only through the
#: environment of the Meltano process; never printed.
DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the local emulator's published demo client

EMULATOR_START_TIMEOUT_S = 90.0
URL_PATTERN = re.compile(r"https?://[^\s\"'<>]+")


class TaskError(Exception):
    """A failure to report as one readable paragraph instead of a traceback."""


# --------------------------------------------------------------------------- helpers


STARTED = time.monotonic()


def say(message: str) -> None:
    """Print a progress line with the seconds since tasks.py started."""
    print(f"==> [{time.monotonic() - STARTED:4.0f}s] {message}", flush=True)


def paragraph(text: str) -> str:
    """Wrap one paragraph to the terminal width, never inside a path or a command's name."""
    width = min(shutil.get_terminal_size((100, 20)).columns, 100)
    return textwrap.fill(
        " ".join(text.split()), width=width, break_on_hyphens=False, break_long_words=False
    )


def bin_path(venv: Path, name: str) -> Path:
    """An executable inside a virtualenv, on POSIX and Windows."""
    if os.name == "nt":
        return venv / "Scripts" / (name + ".exe")
    return venv / "bin" / name


def tail(path: Path, lines: int = 30, redact: Sequence[str] = ()) -> str:
    """The last lines of a log file, with secrets masked."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log written)"
    for secret in redact:
        text = text.replace(secret, "***")
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept) or "    (log is empty)"


def run_logged(
    cmd: Sequence[str | Path],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> int:
    """Run a command with stdout and stderr going to `log`; return its exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        try:
            return subprocess.call(  # noqa: S603 - fixed argument lists, no shell
                [str(part) for part in cmd],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=dict(env) if env is not None else None,
            )
        except OSError as exc:
            raise TaskError(f"Could not start {cmd[0]}: {exc.strerror or exc}.") from exc


def run_live(cmd: Sequence[str | Path], *, env: Mapping[str, str] | None = None) -> int:
    """Run a command with the terminal as its output; return its exit code."""
    try:
        return subprocess.call(  # noqa: S603 - fixed argument lists, no shell
            [str(part) for part in cmd],
            cwd=ROOT,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise TaskError(f"Could not start {cmd[0]}: {exc.strerror or exc}.") from exc


# --------------------------------------------------------------------------- .venv


def install_fingerprint() -> str:
    """What the dev install depends on: the project's metadata, its pins and the Python."""
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(path.read_bytes() if path.exists() else b"-")
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(*, quiet: bool = False) -> Path:
    """Create or refresh `.venv` with `pip install -e '.[dev,emulator]' -c constraints.txt`."""
    python = bin_path(VENV, "python")
    if python.exists() and subprocess.call(  # noqa: S603 - our own venv's interpreter
        [str(python), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ):
        say(f"{VENV.name} is broken or too old; recreating it")
        shutil.rmtree(VENV)
    if not python.exists():
        say(f"Creating {VENV.name} with Python {sys.version.split()[0]}")
        log = LOGS / "venv.log"
        if run_logged([sys.executable, "-m", "venv", VENV], log):
            raise TaskError(
                paragraph(
                    f"Could not create the virtualenv {VENV}. On Debian/Ubuntu install the "
                    "python3-venv package (apt-get install python3-venv) and try again."
                )
                + f"\n\nLast lines of {log}:\n{tail(log)}"
            )
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == fingerprint:
        if not quiet:
            say(f"{VENV.name} is up to date")
        return python
    say(f"Installing the project and its pinned dependencies into {VENV.name} (about a minute)")
    log = LOGS / "pip-install.log"
    cmd: list[str | Path] = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    cmd += ["-e", ".[dev,emulator]"]  # the emulator's server stack is an extra (pyproject.toml)
    if CONSTRAINTS.exists():
        cmd += ["-c", CONSTRAINTS]
    if run_logged(cmd, log):
        raise TaskError(
            paragraph(
                f"pip could not install the project into {VENV}. The usual causes are no "
                "access to PyPI, a pin in constraints.txt with no wheel for this Python "
                f"({sys.version.split()[0]}), or a broken pyproject.toml. The full log is {log}."
            )
            + f"\n\nLast lines:\n{tail(log)}"
        )
    STAMP.write_text(fingerprint + "\n")
    return python


# --------------------------------------------------------------------------- emulator


class Emulator:
    """`coupa-emulator --port 0` as a subprocess; the base URL comes from its first stdout line."""

    def __init__(self, args: Sequence[str], log: Path) -> None:
        self.args = list(args)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = EMULATOR_START_TIMEOUT_S) -> str:
        """Start the emulator and wait for its "listening on http://..." line."""
        executable = bin_path(VENV, "coupa-emulator")
        if not executable.exists():
            raise TaskError(
                paragraph(
                    f"{executable} does not exist, so the Coupa emulator cannot start. Run "
                    "`python3 tasks.py setup` to reinstall the project, and check that "
                    "pyproject.toml still declares the coupa-emulator script."
                )
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = self.log.open("wb")
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(executable), *self.args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
            )
        finally:
            handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            first_line = self._first_line()
            if first_line is not None:
                match = URL_PATTERN.search(first_line)
                if match:
                    self.base_url = match.group(0).rstrip("/.,")
                    return self.base_url
                try:
                    code = self.process.wait(timeout=2.0)
                except subprocess.TimeoutExpired:
                    code = None
                if code is not None:
                    raise TaskError(
                        paragraph(
                            f"The Coupa emulator exited with code {code} instead of starting: "
                            f"{first_line.strip()}"
                        )
                        + self._log_tail()
                    )
                self.stop()
                raise TaskError(
                    paragraph(
                        "The Coupa emulator started but its first line does not contain its "
                        f"URL (expected 'Coupa emulator listening on http://...', got "
                        f"{first_line.strip()!r})."
                    )
                    + self._log_tail()
                )
            if self.process.poll() is not None:
                raise TaskError(
                    paragraph(
                        f"The Coupa emulator exited with code {self.process.returncode} before "
                        f"it was ready. Its command was: coupa-emulator {' '.join(self.args)}."
                    )
                    + self._log_tail()
                )
            time.sleep(0.1)
        self.stop()
        raise TaskError(
            paragraph(
                f"The Coupa emulator did not print its URL within {timeout:.0f} seconds, so "
                "it was stopped. The machine may be overloaded, or the emulator is stuck "
                "generating data (try a smaller --scale)."
            )
            + self._log_tail()
        )

    def _log_tail(self) -> str:
        """The end of the emulator's log, for error messages (demo secret masked)."""
        return f"\n\nLast lines of {self.log}:\n{tail(self.log, redact=[DEMO_CLIENT_SECRET])}"

    def _first_line(self) -> str | None:
        """The first complete stdout line, or None while there is none yet."""
        try:
            data = self.log.read_bytes()
        except OSError:
            return None
        if b"\n" not in data:
            return None
        return data.split(b"\n", 1)[0].decode("utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the emulator: SIGINT (how it expects to be stopped), then terminate, then kill."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for step in ("interrupt", "terminate", "kill"):
            if step == "interrupt":
                process.send_signal(signal.SIGINT)
            elif step == "terminate":
                process.terminate()
            else:
                process.kill()
            try:
                process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                continue
            return

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- meltano / duckdb


def meltano_env(base_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Meltano process pointed at the emulator."""
    env = dict(os.environ)
    env.update(
        {
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "TAP_COUPA_BASE_URL": base_url,
            "TAP_COUPA_CLIENT_ID": DEMO_CLIENT_ID,
            "TAP_COUPA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            # A live view for the demo; scheduled runs keep the 10 s default.
            "TAP_COUPA_PROGRESS_INTERVAL": "3",
        }
    )
    env.update(extra or {})
    return env


def meltano(
    args: Sequence[str], log: Path, env: Mapping[str, str], what: str, *, live: bool = False
) -> None:
    """Run `meltano ARGS`, raising a TaskError with the log's tail when it fails.

    `live` echoes tap-coupa's progress lines and end-of-run summary while it runs.
    """
    if live:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as handle:
            process = subprocess.Popen(  # noqa: S603 - fixed argument lists, no shell
                [str(bin_path(VENV, "meltano")), *args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env=dict(env),
            )
            code = watch(process, log)
    else:
        code = run_logged([bin_path(VENV, "meltano"), *args], log, env=env)
    if code:
        raise TaskError(
            paragraph(f"{what} failed (`meltano {' '.join(args)}` exited with code {code}).")
            + f"\n\nLast lines of {log}:\n{tail(log, 40, redact=[DEMO_CLIENT_SECRET])}"
            + "\n\n"
            + paragraph(f"The full log is {log}.")
        )


#: Runs inside target-duckdb's own venv (Meltano installed duckdb 1.2.2 there), so .venv
#: needs no duckdb and the file is always read by the duckdb version that wrote it.
COUNT_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(
    "select table_catalog, table_schema, table_name from information_schema.tables "
    "where table_type = 'BASE TABLE' and table_catalog = current_database() "
    "and table_schema not in ('staging', 'analytics') order by 2, 3"
).fetchall()
counts = {}
for parts in rows:
    quoted = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
    counts[parts[1] + "." + parts[2]] = con.execute("select count(*) from " + quoted).fetchone()[0]
print(json.dumps(counts))
"""

SQL_SCRIPT = """
import sys
import duckdb
path, schema, query, max_rows, max_width = sys.argv[1:6]
max_rows, max_width = int(max_rows), int(max_width)
try:
    con = duckdb.connect(path, read_only=True)
    if con.execute(
        "select count(*) from information_schema.schemata where schema_name = ?", [schema]
    ).fetchone()[0]:
        db = con.execute("select current_database()").fetchone()[0]
        con.execute("set search_path = '%s.%s,%s.main'" % (db, schema, db))
    cur = con.execute(query)
except duckdb.Error as exc:
    print(str(exc).strip(), file=sys.stderr)
    sys.exit(3)
if cur.description is None:
    print("OK")
    sys.exit(0)
names = [d[0] for d in cur.description]
rows = cur.fetchall()
total = len(rows)
if max_rows > 0:
    rows = rows[:max_rows]
def cell(v):
    s = "NULL" if v is None else str(v)
    s = s.replace("\\n", " ")
    return s if max_width <= 0 or len(s) <= max_width else s[: max_width - 1] + "~"
table = [[cell(n) for n in names]] + [[cell(v) for v in row] for row in rows]
widths = [max(len(r[i]) for r in table) for i in range(len(names))]
line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
print(line(table[0]))
print("  ".join("-" * w for w in widths))
for r in table[1:]:
    print(line(r))
plural = "" if total == 1 else "s"
if len(rows) < total:
    print("(%d of %d rows shown; add --max-rows 0 to print all %d)" % (len(rows), total, total))
else:
    print("(%d row%s)" % (total, plural))
"""


EXAMPLE_QUERIES = (
    '"select count(*) from invoices"',
    '"select \\"invoice-number\\", status, supplier->>\'name\' from invoices limit 5"',
)
QUERY_NOTES = (
    'Column names keep Coupa\'s hyphens, so quote them: "invoice-number". Nested objects and\n'
    "arrays are JSON columns (supplier->>'name'). Run the demo again to load incrementally;\n"
    "add --full-refresh to re-read everything."
)
QUERY_HINT = (
    'Hint: tables live in schema "coupa" (unqualified names work); quote hyphenated columns '
    'like "invoice-number"; list the tables with "show tables".'
)


def loader_python() -> Path:
    """target-duckdb's venv interpreter (it has the pinned duckdb)."""
    python = bin_path(LOADER_VENV, "python")
    if not python.exists():
        raise TaskError(
            paragraph(
                f"DuckDB is not installed yet ({python} is missing): Meltano installs it with "
                "the target-duckdb loader. Run `python3 tasks.py demo` first."
            )
        )
    return python


def table_counts(db: Path) -> dict[str, int]:
    """Rows per table in the DuckDB file."""
    if not db.exists():
        return {}
    counts: dict[str, int] = loader_json(COUNT_SCRIPT, db, "the DuckDB file")
    return counts


def loader_json(script: str, db: Path, what: str) -> Any:
    """What `script` prints as JSON, run on `db` by the loader venv's Python (its duckdb pin)."""
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", script, str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {what} {db}: {result.stderr.strip()[-600:]}"))
    return json.loads(result.stdout)


def demo_db() -> Path:
    """The demo database (TARGET_DUCKDB_FILEPATH overrides meltano.yml, as it does for Meltano)."""
    override = os.environ.get("TARGET_DUCKDB_FILEPATH")
    return Path(override).expanduser().resolve() if override else DEMO_DB


SUMMARY_TOTAL = re.compile(r"\btotal\s+([\d,]+)\s")


def records_read(log: Path) -> int | None:
    """The total of tap-coupa's end-of-run summary table in a `meltano run` log, if present."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    total: int | None = None
    in_summary = False
    for line in lines:
        if "tap-coupa run summary" in line:
            in_summary = True
        elif in_summary and (match := SUMMARY_TOTAL.search(line)):
            total = int(match.group(1).replace(",", ""))
            in_summary = False
    return total


#: tap-coupa's progress lines and summary table rows, wherever Meltano puts them in a log line.
LIVE_TEXT = re.compile(
    r"(progress \S+: .*?(?=\s+cmd_type=|\s*$)"
    r"|tap-coupa run summary"
    r"|stream\s+records\s+requests.*?seconds"
    r"|(?:total|[a-z][a-z0-9_]*)\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+ [KMG]?B\s+[\d.]+)"
)


TAP_FINISHED = re.compile(r"tap-coupa finished: completed")
LOADER_WAIT = (
    "tap-coupa has finished reading; target-duckdb is writing its last batch and committing "
    "(it logs nothing until it is done)"
)


def watch(process: subprocess.Popen[bytes], log: Path) -> int:
    """Wait for `process`, echoing tap-coupa's progress lines and summary from its log.

    Says once that the loader is still at work, after the sync's summary and final line (not
    after discovery's, which runs in its own tap process before the sync).
    """
    position = 0
    summary_seen = waiting_said = False
    while True:
        code = process.poll()
        try:
            with log.open("rb") as handle:
                handle.seek(position)
                chunk = handle.read()
        except OSError:
            chunk = b""
        cut = chunk.rfind(b"\n") + 1  # whole lines only; a partial one is read next time
        position += cut
        for line in chunk[:cut].decode("utf-8", errors="replace").splitlines():
            if match := LIVE_TEXT.search(line):
                print(f"    {match.group(0)}", flush=True)
                summary_seen = summary_seen or "tap-coupa run summary" in line
            elif TAP_FINISHED.search(line) and summary_seen and not waiting_said:
                say(LOADER_WAIT)  # the loader's last batch and commit log nothing for seconds
                waiting_said = True
        if code is not None:
            return code
        time.sleep(0.5)


def previous_params(path: Path) -> dict[str, int] | None:
    """The emulator seed and scale of the last demo load into this database, if recorded."""
    try:
        loaded: dict[str, int] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded


def print_counts(
    before: Mapping[str, int],
    after: Mapping[str, int],
    changed: Mapping[str, int] | None = None,
) -> None:
    """The row-count table the demo ends with (`changed`: rows updated at or after the run)."""
    if not after:
        print("The database has no tables.")
        return
    width = max(len(name) for name in after)
    extra = f"  {'updated':>7}" if changed is not None else ""
    print(f"\n{'table'.ljust(width)}  {'rows':>8}  {'new':>6}{extra}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 6}" + (f"  {'-' * 7}" if extra else ""))
    totals = [0, 0, 0]
    for name, rows in sorted(after.items()):
        new = rows - before.get(name, 0)
        line = f"{name.ljust(width)}  {rows:>8}  {new:>+6}"
        if changed is not None:
            updated = max(0, changed.get(name, 0) - new)
            line += f"  {updated:>7}"
            totals[2] += updated
        totals[0] += rows
        totals[1] += new
        print(line)
    tail = f"  {totals[2]:>7}" if changed is not None else ""
    print(f"{'total'.ljust(width)}  {totals[0]:>8}  {totals[1]:>+6}{tail}")


#: Rows per table whose `updated-at` is at or after a UTC instant (what a run changed).
CHANGED_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(
    "select table_schema, table_name from information_schema.columns "
    "where column_name = 'updated-at' and table_catalog = current_database()"
).fetchall()
counts = {}
for schema, table in rows:
    quoted = '"%s"."%s"' % (schema.replace('"', '""'), table.replace('"', '""'))
    query = 'select count(*) from ' + quoted + ' where "updated-at" >= cast(? as timestamp)'
    counts[schema + "." + table] = con.execute(query, [sys.argv[2]]).fetchone()[0]
print(json.dumps(counts))
"""


def changed_rows(db: Path, since: str) -> dict[str, int]:
    """Rows per table updated at or after `since` (UTC, `YYYY-MM-DD HH:MM:SS`)."""
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", CHANGED_SCRIPT, str(db), since],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {db}: {result.stderr.strip()[-600:]}"))
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


MAX_ID_SCRIPT = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
found = con.execute(
    "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
    [sys.argv[2], sys.argv[3]],
).fetchone()[0]
query = 'select max(cast(id as bigint)) from "%s"."%s"' % (sys.argv[2], sys.argv[3])
print((con.execute(query).fetchone()[0] if found else None) or 0)
"""


def max_id(db: Path, table: str) -> int:
    """The highest id of `table` in the demo database (0 without one)."""
    if not db.exists():
        return 0
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", MAX_ID_SCRIPT, str(db), SCHEMA, table],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {db}: {result.stderr.strip()[-600:]}"))
    return int(result.stdout.strip())


def emulator_changes(base_url: str, count: int, ids_above: int = 0) -> None:
    """Edit `count` invoices and add `count` through the emulator's control API.

    The mutation waits for the run's first request, so its timestamps are those of the run.
    The new invoices get ids above `ids_above` (the database's highest), so every demo run's
    additions are new rows even though each run starts a fresh emulator with the same data.
    """
    body = {"after_requests": 0, "resource": "invoices", "update": count, "insert": count}
    control_post(base_url, "mutations", {**body, "ids_above": ids_above})


# --------------------------------------------------------------------------- Meltano Hub


HUB_DIR = ROOT / "meltano-hub"
#: The Hub variant (by convention the GitHub owner that publishes the plugin) and pip_url a Hub
#: entry installs. Both plugins come from the one `tap-coupa` distribution.
HUB_VARIANT = "coupa-singer"
HUB_PIP_URL = "tap-coupa"
HUB_PLUGINS = (
    ("extractors", "tap-coupa", "tap_coupa"),
    ("loaders", "target-coupa", "target_coupa"),
)
#: A JSON number becomes `kind: string`, never `decimal`: Meltano 4.4 parses a decimal setting
#: given as an environment variable into a Decimal that its own JSON encoder then refuses
#: ("Object of type Decimal is not JSON serializable"), so `meltano run` would crash before the
#: plugin starts. The plugins read numbers given as text themselves (coupa_api.numeric_settings).
JSON_KINDS = {"integer": "integer", "number": "string", "boolean": "boolean", "array": "array"}
#: Matched with `fullmatch`: `$` under `match` accepts a final newline, which plain YAML would drop.
YAML_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9 _./$()-]*")
YAML_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def schema_types(schema: Mapping[str, Any]) -> list[str]:
    """The non-null JSON types a property accepts, from `type` and any `anyOf`/`oneOf`."""
    found: list[str] = []
    declared = schema.get("type")
    for name in [declared] if isinstance(declared, str) else list(declared or []):
        if name != "null" and name not in found:
            found.append(str(name))
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, Mapping):
                found += [t for t in schema_types(option) if t not in found]
    return found


def hub_setting(name: str, schema: Mapping[str, Any], secret: bool) -> dict[str, Any]:
    """One Meltano setting (name, kind, label, description, default) from a JSON-schema property."""
    types = schema_types(schema)
    if schema.get("enum"):
        kind = "options"
    elif "array" in types:
        kind = "array"
    elif types == ["string"] and schema.get("format") == "date-time":
        kind = "date_iso8601"
    elif len(types) == 1:
        kind = JSON_KINDS.get(types[0], "object" if types[0] == "object" else "string")
    else:
        kind = "string"
    setting: dict[str, Any] = {"name": name, "kind": kind}
    setting["label"] = schema.get("title") or name.replace("_", " ").capitalize()
    if schema.get("description"):
        setting["description"] = schema["description"]
    if "default" in schema and schema["default"] is not None:
        setting["value"] = schema["default"]
    if secret:
        setting["sensitive"] = True
    if kind == "options":
        values = [v for v in schema["enum"] if v is not None]
        setting["options"] = [{"label": str(v), "value": v} for v in values]
    return setting


def hub_settings(
    properties: Mapping[str, Mapping[str, Any]], prefix: str = ""
) -> list[dict[str, Any]]:
    """Settings in `--about` order; objects with declared keys get dotted names (as on the Hub)."""
    settings: list[dict[str, Any]] = []
    for key, schema in properties.items():
        name = prefix + key
        nested = schema.get("properties")
        if nested and not isinstance(schema.get("additionalProperties"), Mapping):
            settings += hub_settings(nested, name + ".")
        else:
            secret = bool(schema.get("secret") or schema.get("writeOnly"))
            settings.append(hub_setting(name, schema, secret))
    return settings


def hub_definition(kind: str, about: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A Meltano Hub plugin definition generated from `<plugin> --about --format=json`."""
    schema: Mapping[str, Any] = about["settings"]
    required = list(schema.get("required") or [])
    definition: dict[str, Any] = {
        "name": about["name"],
        "variant": HUB_VARIANT,
        "namespace": namespace,
        "label": "Coupa",
        "description": about["description"],
        "domain_url": "https://www.coupa.com",
        "keywords": ["meltano_sdk", "coupa", "procurement"],
        "maintenance_status": "active",
        "pip_url": HUB_PIP_URL,
        "executable": about["name"],
        "capabilities": list(about["capabilities"]),
        "settings_group_validation": [required] if required else [],
        "settings": hub_settings(schema["properties"]),
    }
    if kind == "loaders":
        definition["label"] = "Coupa (writes invoices)"
    return definition


def yaml_scalar(value: object) -> str:
    """A YAML scalar: plain where unambiguous, else a JSON string (valid YAML double-quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if YAML_PLAIN.fullmatch(text) and text.lower() not in YAML_RESERVED and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def yaml_lines(value: object, indent: int = 0) -> list[str]:
    """Block-style YAML for dicts and lists of scalars, dicts and lists (what Hub files hold)."""
    pad = " " * indent
    if isinstance(value, Mapping):
        lines: list[str] = []
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{key}:")
                lines += yaml_lines(item, indent + (0 if isinstance(item, list) else 2))
            else:
                lines.append(f"{pad}{key}: {'[]' if item == [] else yaml_scalar(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, Mapping | list) and item:
                inner = yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
        return lines
    return [pad + yaml_scalar(value)]


def hub_files(abouts: Mapping[str, Mapping[str, Any]]) -> dict[Path, str]:
    """The Hub YAML files, by path, from each plugin's `--about --format=json`."""
    files: dict[Path, str] = {}
    for kind, name, namespace in HUB_PLUGINS:
        header = (
            f"# Generated by `python3 tasks.py hub` from `{name} --about --format=json`; do not "
            "edit.\n# tests/test_hub_definitions.py fails when it drifts from the code.\n"
        )
        body = "\n".join(yaml_lines(hub_definition(kind, abouts[name], namespace)))
        files[HUB_DIR / kind / name / f"{HUB_VARIANT}.yml"] = header + body + "\n"
    return files


def plugin_about(venv: Path, executable: str) -> dict[str, Any]:
    """`<executable> --about --format=json` from a venv, parsed."""
    result = subprocess.run(  # noqa: S603 - our own console scripts
        [str(bin_path(venv, executable)), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode:
        raise TaskError(
            paragraph(
                f"`{executable} --about --format=json` failed: {result.stderr.strip()[-600:]}"
            )
        )
    about: dict[str, Any] = json.loads(result.stdout)
    return about


# --------------------------------------------------------------------------- orchestrator


MULTI_TENANT = ROOT / "examples" / "multi-tenant"
ORCHESTRATOR_VENV = ROOT / ".venv-orchestrator"
ORCHESTRATOR_PINS = (MULTI_TENANT / "requirements.txt", MULTI_TENANT / "constraints.txt")
#: dagster-meltano 1.5.5 declares Requires-Python <3.13 (docs/multi-tenant.md).
MAX_ORCHESTRATOR_PYTHON = (3, 12)


def ensure_orchestrator_venv(*, quiet: bool = False) -> Path:
    """Create or refresh `.venv-orchestrator`: Dagster, dagster-meltano and Meltano, pinned."""
    if sys.version_info[:2] > MAX_ORCHESTRATOR_PYTHON:
        raise TaskError(
            paragraph(
                "The multi-tenant example runs on Dagster through dagster-meltano 1.5.5, which "
                f"supports Python up to 3.12; this is {sys.version.split()[0]}. Run it with "
                "Python 3.11 or 3.12, e.g. `python3.12 tasks.py orchestrator`."
            )
        )
    python = bin_path(ORCHESTRATOR_VENV, "python")
    stamp = ORCHESTRATOR_VENV / ".tasks-install-stamp"
    digest = hashlib.sha256(sys.version.encode())
    for path in ORCHESTRATOR_PINS:
        digest.update(path.read_bytes())
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest.hexdigest():
        if not quiet:
            say(f"{ORCHESTRATOR_VENV.name} is up to date")
        return python
    log = LOGS / "pip-install-orchestrator.log"
    if not python.exists():
        say(f"Creating {ORCHESTRATOR_VENV.name} with Python {sys.version.split()[0]}")
        if run_logged([sys.executable, "-m", "venv", ORCHESTRATOR_VENV], log):
            raise TaskError(
                paragraph(f"Could not create the virtualenv {ORCHESTRATOR_VENV}.")
                + f"\n\nLast lines of {log}:\n{tail(log)}"
            )
    say(f"Installing Dagster, dagster-meltano and Meltano into {ORCHESTRATOR_VENV.name} (~40 s)")
    requirements, constraints = ORCHESTRATOR_PINS
    cmd: list[str | Path] = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    if run_logged([*cmd, "-r", requirements, "-c", constraints], log):
        raise TaskError(
            paragraph(
                f"pip could not install the orchestrator into {ORCHESTRATOR_VENV} (no access to "
                f"PyPI, or a pin in {constraints.relative_to(ROOT)} without a wheel for this "
                f"Python). The full log is {log}."
            )
            + f"\n\nLast lines:\n{tail(log)}"
        )
    stamp.write_text(digest.hexdigest() + "\n")
    return python


#: The example's tenants, each on its own emulator: (name, emulator seed, invoices). globex is
#: given a wrong client secret, as after a rotation nobody told the pipeline about.
TENANTS = (("acme", 11, 1500), ("globex", 12, 60), ("initech", 13, 90))
FAILING_TENANT = "globex"
TENANT_SCOPES = ("core.invoice.read", "core.supplier.read", "core.common.read")
TENANT_STREAMS = ("invoices", "suppliers", "currencies")
MULTI_TENANT_WORK = OUTPUT / "multi-tenant"
MULTI_TENANT_TIMEOUT_S = 600


def tenant_secret(name: str, seed: int) -> str:
    """The client secret a tenant's emulator accepts (a local emulator's, not a secret)."""
    return f"{name}-secret-{seed}"


def tenant_given_secret(name: str, seed: int) -> str:
    """The secret the pipeline is given: the failing tenant's was rotated long ago."""
    return "rotated-long-ago" if name == FAILING_TENANT else tenant_secret(name, seed)


def tenant_output(name: str) -> Path:
    """Where target-jsonl writes one tenant's streams (`output/$MELTANO_EXTRACT__LOAD_SCHEMA`)."""
    return MULTI_TENANT / "output" / f"coupa_{name}"


def multi_tenant_env(base_urls: Mapping[str, str], work: Path) -> dict[str, str]:
    """The orchestrator's environment: each tenant's URL and secret, private state and homes.

    Removes what an earlier run left in `work` and in the tenants' output folders.
    """
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster").mkdir(parents=True)
    shutil.copy2(MULTI_TENANT / "orchestration" / "dagster.yaml", work / "dagster")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_COUPA", "MELTANO_", "DAGSTER_")) and "_COUPA_" not in k
    }
    env.update(
        {
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
            "MELTANO_STATE_BACKEND_URI": f"file://{work / 'state'}",
            "DAGSTER_HOME": str(work / "dagster"),
        }
    )
    for name, seed, _ in TENANTS:
        env[f"{name.upper()}_COUPA_BASE_URL"] = base_urls[name]
        env[f"{name.upper()}_COUPA_CLIENT_SECRET"] = tenant_given_secret(name, seed)
        shutil.rmtree(tenant_output(name), ignore_errors=True)
    return env


def multi_tenant_run(
    env: Mapping[str, str], log: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]:
    """`meltano install` in the example, then every tenant's Dagster job once, in process.

    Returns the run of orchestration/definitions.py and its JSON line per tenant.
    """
    python = ensure_orchestrator_venv(quiet=True)
    meltano_exe = bin_path(ORCHESTRATOR_VENV, "meltano")
    code = run_logged([meltano_exe, "install"], log, env=env, cwd=MULTI_TENANT)
    if code:
        raise TaskError(
            paragraph(f"`meltano install` in {MULTI_TENANT} exited with code {code}.")
            + f"\n\nLast lines of {log}:\n{tail(log, 40)}"
        )
    definitions = MULTI_TENANT / "orchestration" / "definitions.py"
    try:
        result = subprocess.run(  # noqa: S603 - the orchestrator venv's Python, our own file
            [str(python), str(definitions)],
            cwd=MULTI_TENANT,
            env=dict(env),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=MULTI_TENANT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TaskError(
            paragraph(f"The tenants' Dagster jobs did not finish in {MULTI_TENANT_TIMEOUT_S} s.")
        ) from exc
    with log.open("a", encoding="utf-8") as handle:
        handle.write(result.stdout + result.stderr)
    runs: dict[str, dict[str, Any]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            run: dict[str, Any] = json.loads(line)
            runs[str(run["tenant"])] = run
    return result, runs


def control_post(base_url: str, route: str, body: object) -> None:
    """POST a JSON body to the emulator's control API (`/_emulator/<route>`)."""
    import urllib.error  # noqa: PLC0415 - only the emulator-driving commands need them
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(  # noqa: S310 - the local emulator's http:// URL
        f"{base_url}/_emulator/{route}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TaskError(paragraph(f"The emulator refused POST /_emulator/{route}: {exc}.")) from exc


def jsonl_rows(path: Path) -> int:
    """Non-empty lines of a JSON Lines file (0 when it does not exist)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


# --------------------------------------------------------------------------- commands


def cmd_setup(_: argparse.Namespace) -> int:
    """Create or refresh .venv, and .venv-orchestrator where dagster-meltano runs."""
    ensure_venv()
    say(f"Ready: {VENV}")
    if sys.version_info[:2] <= MAX_ORCHESTRATOR_PYTHON:
        say(f"Ready: {ensure_orchestrator_venv()}")
    return 0


# --------------------------------------------------------------------------- dbt marts


#: What the demo prints about the marts (transform/, docs/analytics.md), read in the loader's venv.
MARTS_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
names = {r[0] for r in con.execute(
    "select table_name from information_schema.tables where table_schema = 'analytics'"
).fetchall()}
out = {}
if {"fct_spend", "dim_suppliers", "fct_procure_to_pay"} <= names:
    out["spend_rows"], out["spend_total"], out["currency"] = con.execute(
        "select count(*), cast(coalesce(sum(amount_reporting), 0) as varchar), "
        "coalesce(max(reporting_currency_code), '') from analytics.fct_spend"
    ).fetchone()
    out["top"] = [list(map(str, row)) for row in con.execute(
        "select coalesce(s.supplier_name, cast(f.supplier_id as varchar)), "
        "cast(sum(f.amount_reporting) as decimal(38, 2)), count(distinct f.invoice_id) "
        "from analytics.fct_spend f left join analytics.dim_suppliers s using (supplier_id) "
        "where f.invoice_status not in ('voided', 'abandoned') "
        "group by 1 order by sum(f.amount_reporting) desc nulls last limit 5"
    ).fetchall()]
    out["p2p_median"], out["p2p_lines"] = con.execute(
        "select median(days_procure_to_pay), count(days_procure_to_pay) "
        "from analytics.fct_procure_to_pay"
    ).fetchone()
if "fct_open_payables" in names:
    query = "select count(*) from analytics.fct_open_payables"
    out["open_payables"] = con.execute(query).fetchone()[0]
print(json.dumps(out, default=str))
"""
DBT_DONE = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)")


def mart_summary(db: Path) -> dict[str, Any]:
    """Spend rows and total, the top suppliers and the median procure-to-pay days ({} before)."""
    if not db.exists():
        return {}
    summary: dict[str, Any] = loader_json(MARTS_SCRIPT, db, "the marts in")
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


def cmd_demo(args: argparse.Namespace) -> int:
    """Emulator -> `meltano run tap-coupa target-duckdb` -> row counts."""
    if sys.version_info[:2] > MAX_DEMO_PYTHON:
        raise TaskError(
            paragraph(
                f"The demo loads into DuckDB with target-duckdb 0.8.0 and duckdb 1.2.2 (newer "
                "duckdb silently drops rows with that loader), and duckdb 1.2.2 has no wheel "
                f"for Python {sys.version_info[0]}.{sys.version_info[1]}. Run the demo with "
                "Python 3.11, 3.12 or 3.13, e.g. `python3.13 tasks.py demo` (delete .venv "
                "first if it was made with another Python)."
            )
        )
    ensure_venv()
    db = demo_db()
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.fresh:
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)
        say(f"Deleted {db}; this run is a full load")

    say(f"Installing the Meltano plugins {EXTRACTOR}, {LOADER} and {TRANSFORMER} (into .meltano/)")
    meltano(
        ["install", EXTRACTOR, LOADER, TRANSFORMER],
        LOGS / "meltano-install.log",
        meltano_env(""),
        "Installing the Meltano plugins",
    )
    before = table_counts(db)
    full_refresh = args.full_refresh or args.fresh
    params_file = db.with_name(db.name + ".demo.json")
    params = {"seed": args.seed, "scale": args.scale}
    if not full_refresh and not any(before.values()):
        say("The database is empty, so this run ignores saved state (a full load)")
        full_refresh = True
    elif not full_refresh and previous_params(params_file) not in (None, params):
        say(
            f"The emulator data changed since the last load ({previous_params(params_file)} -> "
            f"{params}); this run is a full load. Rows of the old data stay: add --fresh to "
            "start from an empty database."
        )
        full_refresh = True

    emulator_args = ["--port", "0", "--seed", str(args.seed), "--scale", str(args.scale)]
    emulator_args += ["--settle-seconds", "1"]
    with Emulator(emulator_args, LOGS / "emulator.log") as emulator:
        say(f"Starting the Coupa emulator (seed {args.seed}, scale {args.scale})")
        base_url = emulator.start()
        say(f"Emulator listening on {base_url}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        if args.changes:
            emulator_changes(base_url, args.changes, ids_above=max_id(db, "invoices"))
            say(
                f"In the emulator: {args.changes} invoices edited and {args.changes} added "
                "(control API, applied at the run's first request)"
            )
        run_args = ["run", EXTRACTOR, LOADER]
        if full_refresh:
            run_args.append("--full-refresh")
        say(f"meltano {' '.join(run_args)}  (log: {LOGS / 'meltano-run.log'})")
        meltano(
            run_args,
            LOGS / "meltano-run.log",
            meltano_env(base_url, {"TARGET_DUCKDB_FILEPATH": str(db)}),
            "The Meltano pipeline",
            live=True,
        )
    say("Emulator stopped")
    params_file.write_text(json.dumps(params) + "\n")
    marts_before = build_marts(db, full_refresh=full_refresh)

    after = table_counts(db)
    print_counts(before, after, changed_rows(db, since) if args.changes else None)
    read = records_read(LOGS / "meltano-run.log")
    if read is not None:
        print(
            "\n"
            + paragraph(
                f"tap-coupa read {read} records this run (an incremental run re-reads the "
                "records at each stream's bookmark; target-duckdb upserts by id, so they are "
                "not duplicated)."
            )
        )
    print(
        f"\nLoaded into {db} (schema {SCHEMA}; marts in schema analytics) in "
        f"{time.monotonic() - started:.0f} s. Query it with SQL:\n"
    )
    command = "python3 tasks.py sql" + ("" if db == DEMO_DB else f" --db {db}")
    for query in EXAMPLE_QUERIES:
        print(f"    {command} {query}")
    print_marts(marts_before, mart_summary(db), changes=bool(args.changes))
    return 0


#: Statements that list the database's own structure: every row is printed (76 tables).
LISTING_STATEMENT = re.compile(r"^\s*(?:show|describe|summarize)\b", re.IGNORECASE)
SQL_MAX_ROWS = 50


def sql_max_rows(query: str, given: int | None) -> int:
    """`--max-rows` as given; by default 50, or all rows for `show tables` and the like."""
    if given is not None:
        return given
    return 0 if LISTING_STATEMENT.match(query) else SQL_MAX_ROWS


def cmd_sql(args: argparse.Namespace) -> int:
    """Run one SQL statement against the demo database (read-only) and print the result."""
    db = Path(args.db).expanduser().resolve() if args.db else demo_db()
    if not db.exists():
        raise TaskError(
            paragraph(f"There is no database at {db} yet. Run `python3 tasks.py demo` first.")
        )
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [
            str(loader_python()),
            "-c",
            SQL_SCRIPT,
            str(db),
            SCHEMA,
            args.query,
            str(sql_max_rows(args.query, args.max_rows)),
            str(args.max_width),
        ],
        text=True,
        capture_output=True,
        check=False,
    )
    sys.stdout.write(result.stdout)
    if result.returncode:
        raise TaskError(
            paragraph(f"DuckDB could not run the query: {result.stderr.strip()[-800:]}")
            + "\n\n"
            + paragraph(QUERY_HINT)
        )
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """Run ruff check, ruff format --check, mypy and pytest; non-zero if any fails."""
    python = ensure_venv(quiet=True)
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [bin_path(VENV, "ruff"), "check", "."]),
        ("ruff format", [bin_path(VENV, "ruff"), "format", "--check", "."]),
        ("mypy", [bin_path(VENV, "mypy")]),
        ("mypy tasks.py", [bin_path(VENV, "mypy"), "tasks.py"]),
        ("pytest", [python, "-m", "pytest", f"--junitxml={JUNIT}", *pytest_args(args)]),
    ]
    JUNIT.unlink(missing_ok=True)
    results: list[tuple[str, int]] = []
    for name, cmd in steps:
        say(name)
        code = run_live(cmd)
        results.append((name, code))
    print()
    failed = False
    for name, code in results:
        if code == 0:
            status = "ok"
        elif name == "pytest" and code == 5:
            status = "FAILED (exit 5: no tests were collected)"
        else:
            status = f"FAILED (exit {code})"
        failed = failed or code != 0
        print(f"  {name:<14} {status}")
    passed, not_passed = junit_counts(JUNIT)
    if passed == 0:
        failed = True
    # The plain closing line CI reads: the test count, after everything else.
    print(f"tests: {passed} passed, {not_passed} failed")
    return 1 if failed else 0


#: The slow tiers `test --fast` leaves out: whole Meltano/dbt projects, wheels, Dagster.
SLOW_MARKERS = ("meltano", "packaging", "orchestrator", "dbt")


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest arguments of `test`: the slowest tests named, `--fast` without slow tiers."""
    extra: list[str] = ["--durations=15"]
    if args.fast:
        extra += ["-m", "not (" + " or ".join(SLOW_MARKERS) + ")"]
    return [*extra, *args.pytest_args]


def junit_counts(path: Path) -> tuple[int, int]:
    """(passed, failed or errored) from pytest's JUnit XML; (0, 0) when it wrote none."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only the test task needs it

    if not path.exists():
        return 0, 0
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's report
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - bad - skipped, bad


def cmd_freeze(_: argparse.Namespace) -> int:
    """Rewrite constraints.txt from the packages installed in .venv."""
    python = ensure_venv(quiet=True)
    result = subprocess.run(  # noqa: S603 - our own venv's pip
        [str(python), "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"pip freeze failed: {result.stderr.strip()[-600:]}"))
    pins = [
        line
        for line in result.stdout.splitlines()
        if line and not line.startswith("#") and not line.lower().startswith("tap-coupa")
    ]
    header = [
        "# Pins for the dev venv (.venv) and Meltano's tap-coupa/target-coupa venvs, used as",
        "#   pip install -e '.[dev,emulator]' -c constraints.txt",
        "# Regenerate with `python3 tasks.py freeze`. The project itself is not listed.",
    ]
    CONSTRAINTS.write_text("\n".join(header + pins) + "\n")
    STAMP.write_text(install_fingerprint() + "\n")
    say(f"Wrote {len(pins)} pins to {CONSTRAINTS.name}")
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    """Write (or, with --check, verify) the Meltano Hub definitions in meltano-hub/."""
    ensure_venv(quiet=True)
    files = hub_files({name: plugin_about(VENV, name) for _, name, _ in HUB_PLUGINS})
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    shown = ", ".join(str(path.relative_to(ROOT)) for path in stale)
    if args.check:
        if stale:
            print(f"Out of date (run `python3 tasks.py hub`): {shown}", file=sys.stderr)
            return 1
        say("The Hub definitions in meltano-hub/ match the plugins' --about")
        return 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
    say(f"Wrote {shown}" if stale else "The Hub definitions were already up to date")
    return 0


def cmd_orchestrator(_: argparse.Namespace) -> int:
    """Create or refresh .venv-orchestrator and say how to run the multi-tenant example."""
    ensure_orchestrator_venv()
    example = MULTI_TENANT.relative_to(ROOT)
    say(f"Ready: {ORCHESTRATOR_VENV}. The Dagster UI for {example} (docs/multi-tenant.md):")
    dagster = bin_path(ORCHESTRATOR_VENV, "dagster")
    print(f"    {dagster} dev -f {example}/orchestration/definitions.py")
    return 0


def cmd_multi_tenant(_: argparse.Namespace) -> int:
    """examples/multi-tenant end to end: three emulators, one Dagster job per tenant."""
    ensure_venv(quiet=True)
    ensure_orchestrator_venv()
    log = LOGS / "multi-tenant.log"
    shown_log = log.relative_to(ROOT)  # the same text on every machine (docs/multi-tenant.md)
    emulators: dict[str, Emulator] = {}
    try:
        for name, seed, scale in TENANTS:
            emulator = Emulator(
                ["--port", "0", "--seed", str(seed), "--scale", str(scale), "--settle-seconds",
                 "0"],
                LOGS / f"emulator-{name}.log",
            )  # fmt: skip
            emulators[name] = emulator
            url = emulator.start()
            client = {"client_id": f"meltano-{name}", "client_secret": tenant_secret(name, seed)}
            control_post(url, "clients", {**client, "scopes": list(TENANT_SCOPES)})
        say(
            "Three Coupa emulators, one per tenant: "
            + ", ".join(f"{t[0]} ({t[2]} invoices)" for t in TENANTS)
            + f"; {FAILING_TENANT} is given a wrong client secret"
        )
        env = multi_tenant_env({n: e.base_url for n, e in emulators.items()}, MULTI_TENANT_WORK)
        say(f"meltano install, then each tenant's Dagster job once (log: {shown_log})")
        runs = multi_tenant_run(env, log)[1]
    finally:
        for emulator in emulators.values():
            emulator.stop()
    print(f"\n{'tenant':<8}  {'Dagster job':<14}  {'result':<7}  " + "  ".join(TENANT_STREAMS))
    for name in (tenant[0] for tenant in TENANTS):
        run = runs.get(name, {})
        outcome = {True: "success", False: "failed"}.get(bool(run.get("success")), "no run")
        outcome = outcome if run else "no run"
        rows = "  ".join(
            f"{jsonl_rows(tenant_output(name) / f'{s}.jsonl'):>{len(s)}}" for s in TENANT_STREAMS
        )
        print(f"{name:<8}  {run.get('job', '-'):<14}  {outcome:<7}  {rows}")
    failed = sorted(name for name, run in runs.items() if not run.get("success"))
    if len(runs) != len(TENANTS) or failed != [FAILING_TENANT]:
        raise TaskError(
            paragraph(
                f"Expected {FAILING_TENANT} alone to fail; the runs were {runs or 'none'}. "
                f"The orchestrator's output is in {log}."
            )
            + f"\n\nLast lines:\n{tail(log, 40)}"
        )
    print(
        "\n"
        + paragraph(
            f"{FAILING_TENANT} failed alone (its secret is wrong; the reason is in its run's log, "
            f"{shown_log}) and the tenants before and after it loaded their own instance's records "
            f"into {tenant_output('<tenant>').relative_to(ROOT)}/, each with its own state id."
        )
    )
    return 0


def non_negative(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"expected a whole number, 0 or more, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py",
        description="Task runner for tap-coupa / target-coupa.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="emulator -> tap-coupa -> target-duckdb, then row counts")
    demo.add_argument(
        "--scale", type=non_negative, default=500, help="emulated invoices (default 500)"
    )
    demo.add_argument("--seed", type=int, default=7, help="emulator data seed (default 7)")
    demo.add_argument(
        "--full-refresh", action="store_true", help="ignore saved state and re-read everything"
    )
    demo.add_argument(
        "--fresh", action="store_true", help="delete the database first, then load everything"
    )
    demo.add_argument(
        "--changes",
        type=non_negative,
        default=0,
        metavar="N",
        help="before loading, edit N invoices and add N new ones in the emulator (as users "
        "working in Coupa since the last load would), then show what the run added and updated",
    )
    demo.set_defaults(func=cmd_demo)

    sql = sub.add_parser("sql", help="run a read-only SQL query against the demo database")
    sql.add_argument("query", help='e.g. "select count(*) from invoices"')
    sql.add_argument("--db", help="DuckDB file (default output/demo.duckdb)")
    sql.add_argument(
        "--max-rows",
        type=non_negative,
        default=None,
        help="rows to print, 0 = all (default 50; all for show/describe)",
    )
    sql.add_argument(
        "--max-width", type=int, default=60, help="characters per cell, 0 = no limit (default 60)"
    )
    sql.set_defaults(func=cmd_sql)

    test = sub.add_parser(
        "test",
        help="ruff check, ruff format --check, mypy, pytest (extra arguments go to pytest)",
    )
    test.add_argument(
        "--fast",
        action="store_true",
        help="leave out the slow tiers (" + ", ".join(SLOW_MARKERS) + "): the inner loop",
    )
    test.set_defaults(func=cmd_test, pytest_args=[])

    setup = sub.add_parser("setup", help="create or refresh .venv")
    setup.set_defaults(func=cmd_setup)

    freeze = sub.add_parser("freeze", help="rewrite constraints.txt from .venv")
    freeze.set_defaults(func=cmd_freeze)

    hub = sub.add_parser("hub", help="generate meltano-hub/ plugin definitions from --about")
    hub.add_argument("--check", action="store_true", help="fail if the files are out of date")
    hub.set_defaults(func=cmd_hub)

    orchestrator = sub.add_parser(
        "orchestrator", help="create .venv-orchestrator (Dagster) for examples/multi-tenant"
    )
    orchestrator.set_defaults(func=cmd_orchestrator)
    multi = sub.add_parser(
        "multi-tenant",
        help="examples/multi-tenant end to end: three emulators, one Dagster job per tenant",
    )
    multi.set_defaults(func=cmd_multi_tenant)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one command, turning expected failures into one paragraph."""
    if sys.version_info < MIN_PYTHON:
        print(
            paragraph(
                f"tasks.py needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
                f"{sys.version.split()[0]}. Run it with a newer interpreter, e.g. "
                "`python3.11 tasks.py ...`."
            ),
            file=sys.stderr,
        )
        return 2
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        code: int = args.func(args)
    except TaskError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
