"""End to end through Meltano: the rows in DuckDB are exactly what tap-coupa emitted.

One module, one Meltano install (the repository's own `meltano.yml` and `.meltano/` plugin
venvs), a private system database, state backend and DuckDB file under tmp_path, and the
session emulator from tests/conftest.py. Order matters: the full load runs first, then an
incremental load after the emulator has changed some invoices.
"""

# ruff: noqa: S603, S608 - runs our own venvs' executables; SQL built from fixed names

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import tasks
from coupa_emulator.server import RunningEmulator
from tap_coupa import embedded
from tap_coupa.client import EmbeddedLinesStream
from tap_coupa.streams import STREAMS
from tests.loaded import meltano_env
from tests.loaded import query as db_query

pytestmark = [pytest.mark.meltano, pytest.mark.timeout(900)]

MELTANO = tasks.bin_path(tasks.VENV, "meltano")
SCHEMA = tasks.SCHEMA


@dataclass
class Project:
    """The Meltano project pointed at the emulator, with private state and output."""

    env: dict[str, str]
    db: Path
    logs: Path
    runs: list[Path] = field(default_factory=list)

    def meltano(self, *args: str, log_name: str, stdout: Path | None = None) -> Path:
        """Run meltano; fail the test with the log's tail if it fails."""
        log = self.logs / log_name
        with log.open("w") as err, (stdout or log.with_suffix(".out")).open("w") as out:
            code = subprocess.call(
                [str(MELTANO), *args],
                cwd=tasks.ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        if code:
            pytest.fail(
                f"meltano {' '.join(args)} exited {code}:\n"
                + tasks.tail(log, 40, redact=[tasks.DEMO_CLIENT_SECRET])
            )
        return log


def read_records(path: Path) -> Counter[str]:
    """RECORD messages per stream in a Singer output file."""
    counts: Counter[str] = Counter()
    with path.open() as handle:
        for line in handle:
            if line.startswith("{"):
                message = json.loads(line)
                if message.get("type") == "RECORD":
                    counts[message["stream"]] += 1
    return counts


def records_read(log: Path) -> int:
    """The total of tap-coupa's end-of-run summary in a `meltano run` log (what the demo prints)."""
    total = tasks.records_read(log)
    assert total is not None, f"no tap-coupa run summary in {log}"
    return total


def ground_truth(emulator: RunningEmulator) -> dict[str, int]:
    """Records per stream the emulator holds: headers as stored, lines as embedded."""
    truth: dict[str, int] = {}
    for cls in STREAMS:
        if issubclass(cls, EmbeddedLinesStream):
            parents = emulator.control.records(cls.parent_stream_type.name)  # type: ignore[union-attr]
            truth[cls.name] = sum(len(embedded.elements(cls, p)) for p in parents)
        else:
            truth[cls.name] = len(emulator.control.records(cls.name))
    return truth


def db_counts(db: Path) -> dict[str, int]:
    """Rows per table of the coupa schema."""
    counts = tasks.table_counts(db)
    return {name.split(".", 1)[1]: n for name, n in counts.items() if name.startswith(SCHEMA + ".")}


def text(value: Any) -> str | None:
    """A value as the loaded table's text: NULL stays None."""
    return None if value is None else str(value)


def utc_naive(value: str) -> str:
    """An ISO timestamp with offset as DuckDB's TIMESTAMP shows it (UTC, no zone)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return parsed.replace(tzinfo=None).isoformat(sep=" ")


@pytest.fixture(scope="module")
def project(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Install tap-coupa and target-duckdb once; private system db, state and DuckDB file."""
    emulator.control.reset()
    tmp = tmp_path_factory.mktemp("meltano")
    logs = tmp / "logs"
    logs.mkdir()
    env = meltano_env(tmp, emulator.base_url, tmp / "demo-test.duckdb")
    proj = Project(env=env, db=tmp / "demo-test.duckdb", logs=logs)
    proj.meltano("install", "tap-coupa", "target-duckdb", log_name="install.log")
    return proj


@pytest.fixture(scope="module")
def tap_counts(project: Project) -> Counter[str]:
    """RECORD messages per stream from the tap alone, with Meltano's config and catalog."""
    out = project.logs / "tap.singer.jsonl"
    project.meltano("invoke", "tap-coupa", log_name="invoke.log", stdout=out)
    return read_records(out)


@pytest.fixture(scope="module")
def first_run(project: Project, tap_counts: Counter[str]) -> Path:
    """`meltano run tap-coupa target-duckdb` into an empty database (no state yet)."""
    return project.meltano("run", "tap-coupa", "target-duckdb", log_name="run1.log")


def test_tap_emits_every_emulator_record(
    emulator: RunningEmulator, tap_counts: Counter[str]
) -> None:
    truth = ground_truth(emulator)
    assert dict(tap_counts) == {name: n for name, n in truth.items() if n}
    assert sum(tap_counts.values()) > 0


def test_meltano_run_loads_exactly_what_the_tap_emitted(
    emulator: RunningEmulator, project: Project, tap_counts: Counter[str], first_run: Path
) -> None:
    tables = db_counts(project.db)
    assert tables == dict(tap_counts)
    assert tables == {name: n for name, n in ground_truth(emulator).items() if n}
    assert records_read(first_run) == sum(tap_counts.values())
    for table in tables:
        [[rows, ids]] = db_query(
            project.db, f'select count(*), count(distinct id) from {SCHEMA}."{table}"'
        )
        assert rows == ids, f"{table}: duplicate ids"


def test_hyphenated_nested_and_timestamp_columns_survive(
    emulator: RunningEmulator, project: Project, first_run: Path
) -> None:
    truth = {r["id"]: r for r in emulator.control.records("invoices")}
    rows = db_query(
        project.db,
        f'select id, "invoice-number", "updated-at", supplier->>\'id\', '
        f'json_array_length("invoice-lines") from {SCHEMA}.invoices',
    )
    assert len(rows) == len(truth)
    for id_, number, updated_at, supplier_id, n_lines in rows:
        record = truth[int(id_)]
        assert number == str(record["invoice-number"])
        assert updated_at == utc_naive(record["updated-at"])
        if record.get("supplier"):
            assert supplier_id == str(record["supplier"]["id"])
        assert int(n_lines) == len(record.get("invoice-lines") or [])


def test_custom_fields_and_dates_are_typed_columns(
    emulator: RunningEmulator, project: Project, first_run: Path
) -> None:
    """What analysts query: custom fields as columns, one type per name, dates as timestamps."""
    types = dict(
        db_query(
            project.db,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            f"where table_schema = '{SCHEMA}'",
        )
    )
    assert types["invoices.custom-fields__cost-center"] == "VARCHAR"
    assert types["invoices.custom-fields__cf-integration-status"] == "VARCHAR"
    assert types["suppliers.custom-fields__erp-ref"] == "VARCHAR"
    assert types["invoices.tax-rate"] == types["invoice_lines.tax-rate"] == "DOUBLE"
    assert types["invoices.discount-due-date"].startswith("TIMESTAMP")
    assert types["invoices.net-due-date"].startswith("TIMESTAMP")
    truth = {str(r["id"]): r["custom-fields"] for r in emulator.control.records("invoices")}
    rows = db_query(
        project.db,
        f'select id, "custom-fields__cost-center", "custom-fields__cf-integration-status" '
        f"from {SCHEMA}.invoices",
    )
    assert len(rows) == len(truth)
    for id_, cost_center, status in rows:
        expected = truth[id_]
        assert cost_center == text(expected["cost-center"])
        assert status == text(expected["cf-integration-status"])


def test_second_run_is_incremental_and_adds_no_duplicates(
    emulator: RunningEmulator, project: Project, tap_counts: Counter[str], first_run: Path
) -> None:
    emulator.control.add_mutation(after_requests=0, resource="invoices", update=3, insert=2)
    second = project.meltano("run", "tap-coupa", "target-duckdb", log_name="run2.log")

    read = records_read(second)
    assert 0 < read < sum(tap_counts.values()) // 2, f"second run read {read} records"
    truth = ground_truth(emulator)
    tables = db_counts(project.db)
    assert tables == {name: n for name, n in truth.items() if n}
    assert tables["invoices"] == tap_counts["invoices"] + 2
    for table in tables:
        [[rows, ids]] = db_query(
            project.db, f'select count(*), count(distinct id) from {SCHEMA}."{table}"'
        )
        assert rows == ids, f"{table}: duplicate ids after the incremental run"
    expected = {
        str(r["id"]): utc_naive(r["updated-at"]) for r in emulator.control.records("invoices")
    }
    loaded = dict(db_query(project.db, f'select id, "updated-at" from {SCHEMA}.invoices'))
    assert loaded == expected

    state_ids = project.meltano("state", "list", log_name="state.log", stdout=project.logs / "s")
    assert "dev:tap-coupa-to-target-duckdb" in (project.logs / "s").read_text(), state_ids


def test_each_demo_run_with_changes_adds_new_rows(
    emulator: RunningEmulator, project: Project, first_run: Path
) -> None:
    """`tasks.py demo --changes N` starts a fresh emulator each run; its inserts are new ids."""
    grown: list[int] = []
    for _ in range(2):
        emulator.control.reset()  # what the next `demo` starts with: the same seed and data
        before = db_counts(project.db)
        tasks.emulator_changes(emulator.base_url, 2, ids_above=tasks.max_id(project.db, "invoices"))
        project.meltano("run", "tap-coupa", "target-duckdb", log_name=f"run-grow{len(grown)}.log")
        after = db_counts(project.db)
        grown.append(after["invoices"] - before["invoices"])
        assert after["invoice_lines"] > before["invoice_lines"], "the new invoices' lines are new"
    assert grown == [2, 2]


def test_meltano_select_keeps_what_matters(tmp_path: Path) -> None:
    """`meltano select` rewrites meltano.yml and drops comments: nothing important is one."""
    original = (tasks.ROOT / "meltano.yml").read_text()
    (tmp_path / "meltano.yml").write_text(original)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_COUPA_", "MELTANO_"))}
    env.update({"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true"})
    for args in (["invoices", "*"], ["--rm", "*", "*"], ["*", "*"]):
        result = subprocess.run(
            [str(MELTANO), "select", "--no-install", "tap-coupa", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    rewritten = (tmp_path / "meltano.yml").read_text()
    assert rewritten != original  # Meltano did rewrite the file
    before, after = yaml.safe_load(original), yaml.safe_load(rewritten)
    select = after["plugins"]["extractors"][0].pop("select")
    assert sorted(select) == ["*.*", "invoices.*"]
    before["plugins"]["extractors"][0].pop("select")
    assert after == before
    duckdb = next(p for p in after["plugins"]["loaders"] if p["name"] == "target-duckdb")
    assert "duckdb==1.2.2" in duckdb["pip_url"]
    assert "PINNED duckdb==1.2.2" in duckdb["description"]
    assert "drops the first row" in duckdb["description"]
    dev = next(e for e in after["environments"] if e["name"] == "dev")
    tap = dev["config"]["plugins"]["extractors"][0]["config"]
    assert tap["base_url"].startswith("http://127.0.0.1:")
    assert tap["token_settle_seconds"] == 1


def test_meltano_select_without_an_environment_says_what_to_add(project: Project) -> None:
    """`meltano select` ignores default_environment; the tap's error says to add one.

    (Meltano itself still prints a traceback box for the failed discovery around it.)
    """
    env = {k: v for k, v in project.env.items() if not k.startswith("TAP_COUPA_")}
    env.pop("MELTANO_ENVIRONMENT")  # as typed by a user: no environment
    env["COLUMNS"] = "2000"  # Meltano wraps what its plugins log at the terminal width
    result = subprocess.run(
        [str(MELTANO), "select", "--no-install", "tap-coupa", "--list"],
        cwd=tasks.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "'base_url' is a required property" in output
    assert "add `--environment=dev`" in output  # once, after the tap's missing settings


def test_sql_show_tables_prints_every_table(project: Project, first_run: Path) -> None:
    """`tasks.py sql "show tables"` lists all of them; other queries stop at 50 rows by default."""
    del first_run
    tables = len(db_counts(project.db))
    assert tables > tasks.SQL_MAX_ROWS, "the demo database has more tables than one page shows"
    sql = [tasks.sys.executable, str(tasks.ROOT / "tasks.py"), "sql", "--db", str(project.db)]
    shown = subprocess.run([*sql, "show tables"], capture_output=True, text=True, check=True)
    assert shown.stdout.rstrip().endswith(f"({tables} rows)"), shown.stdout[-300:]
    query = f"select table_name from information_schema.tables where table_schema = '{SCHEMA}'"
    listed = subprocess.run([*sql, query], capture_output=True, text=True, check=True)
    assert f"(50 of {tables} rows shown; add --max-rows 0" in listed.stdout
