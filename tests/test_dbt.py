"""The dbt package in transform/: built by Meltano's dbt-duckdb utility over an emulator load.

One module, one Meltano project (the repository's meltano.yml and .meltano/ venvs) with a
private system database, state backend, DuckDB file and dbt target directory under tmp_path.
Order matters: the full load and build first, then an incremental load after the emulator
changed invoices (one loses a line), then a full refresh that must give the same rows, then a
copy of the database without some streams.
"""

# ruff: noqa: S603, S608 - runs our own venvs' executables; SQL built from fixed names

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tasks
from coupa_emulator.server import RunningEmulator
from tests.loaded import meltano_env, query

sys.path.insert(0, str(tasks.ROOT / "transform"))
import generate_staging  # transform/ is not a package: imported from its folder

MELTANO = tasks.bin_path(tasks.VENV, "meltano")
#: Streams removed from a copy of the database to show that absent sources are skipped.
ABSENT = ("invoice_line_allocations", "receiving_transactions", "approvals", "exchange_rates")
#: What the incremental run must reproduce exactly (ordered by their key).
COMPARED = {
    "analytics.fct_spend": "spend_id",
    "staging.stg_coupa__invoice_lines": "id",
    "staging.stg_coupa__invoice_line_allocations": "id",
    "analytics.fct_procure_to_pay": "purchase_order_line_id",
}


@dataclass
class Project:
    """The Meltano project pointed at the emulator, with private state, output and dbt target."""

    env: dict[str, str]
    db: Path
    tmp: Path

    def meltano(self, *args: str, log_name: str, db: Path | None = None) -> Path:
        """Run meltano; fail the test with the log's tail if it fails."""
        log = self.tmp / "logs" / log_name
        env = dict(self.env)
        if db is not None:
            env["DBT_DUCKDB_PATH"] = str(db)
        with log.open("w") as out:
            code = subprocess.call(
                [str(MELTANO), *args],
                cwd=tasks.ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if code:
            pytest.fail(
                f"meltano {' '.join(args)} exited {code}:\n"
                + tasks.tail(log, 60, redact=[tasks.DEMO_CLIENT_SECRET])
            )
        return log

    def results(self) -> list[dict[str, Any]]:
        """The last dbt command's results (run_results.json in the private target dir)."""
        data = json.loads((self.tmp / "dbt-target" / "run_results.json").read_text())
        results: list[dict[str, Any]] = data["results"]
        return results


def snapshot(db: Path) -> dict[str, list[list[Any]]]:
    """Every compared model's rows, ordered by key."""
    return {
        table: query(db, f"select * from {table} order by {key}") for table, key in COMPARED.items()
    }


def failures(results: list[dict[str, Any]]) -> list[str]:
    """dbt nodes that did not succeed or pass (warnings count: the emulator's data is clean)."""
    return [
        f"{r['unique_id']}: {r['status']} {r.get('message') or ''}"
        for r in results
        if r["status"] not in ("success", "pass")
    ]


@pytest.fixture(scope="module")
def project(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Install the plugins and the dbt utility once; load the emulator; build the package."""
    emulator.control.reset()
    tmp = tmp_path_factory.mktemp("dbt")
    (tmp / "logs").mkdir()
    db = tmp / "dbt-test.duckdb"
    env = meltano_env(tmp, emulator.base_url, db, drop=("DBT_", "TARGET_DUCKDB_"))
    env.update(
        {
            "DBT_DUCKDB_PATH": str(db),
            "DBT_TARGET_PATH": str(tmp / "dbt-target"),
            "DBT_LOG_PATH": str(tmp / "dbt-logs"),
        }
    )
    proj = Project(env=env, db=db, tmp=tmp)
    proj.meltano("install", "tap-coupa", "target-duckdb", tasks.TRANSFORMER, log_name="install.log")
    # What the issue promises: extract, load and transform in one Meltano run.
    proj.meltano("run", "tap-coupa", "target-duckdb", "dbt-duckdb:build", log_name="run1.log")
    return proj


def test_staging_models_are_generated_from_the_streams() -> None:
    stale = generate_staging.stale_files()
    assert not stale, f"run `.venv/bin/python transform/generate_staging.py`; stale: {stale}"


@pytest.mark.meltano
@pytest.mark.dbt
@pytest.mark.timeout(1200)
def test_build_passes_every_model_and_test(project: Project, emulator: RunningEmulator) -> None:
    results = project.results()
    assert not failures(results)
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    staging = [r for r in models if ".stg_coupa__" in r["unique_id"]]
    assert len(staging) == len(list(generate_staging.STAGING.glob("stg_coupa__*.sql")))
    marts = {r["unique_id"].rsplit(".", 1)[1] for r in models if ".stg_" not in r["unique_id"]}
    assert {"fct_spend", "fct_procure_to_pay", "fct_open_payables", "dim_suppliers"} <= marts
    assert {"dim_accounts", "dim_users", "dim_commodities"} <= marts
    assert any("coupa_spend_reconciles_to_lines" in r["unique_id"] for r in tests)
    assert any("staging_keys_are_unique_and_not_null" in r["unique_id"] for r in tests)
    assert any("relationships_stg_coupa__invoices_supplier_id" in r["unique_id"] for r in tests)

    # Spend per invoice equals what the emulator holds, to the cent, in the invoice currency.
    truth = {
        str(r["id"]): sum((Decimal(line["total"]) for line in r["invoice-lines"]), Decimal(0))
        for r in emulator.control.records("invoices")
    }
    spend = query(project.db, "select invoice_id, sum(amount) from analytics.fct_spend group by 1")
    assert {i: Decimal(a) for i, a in spend} == truth
    # Reporting amounts: USD as is; every other currency converted (the tenant has the rates).
    rows = query(
        project.db,
        "select currency_code, count(*), count(amount_reporting), "
        "sum(case when currency_code = 'USD' and amount_reporting <> round(amount, 2) "
        "then 1 else 0 end) from analytics.fct_spend group by 1",
    )
    assert len(rows) > 2
    for currency, total, converted, wrong_usd in rows:
        assert total == converted, f"{currency}: rows without a reporting amount"
        assert wrong_usd == "0"
    # The documents are linked: procure-to-pay has requisitions, invoices and payments.
    [[lines, requisitions, invoiced, paid]] = query(
        project.db,
        "select count(*), count(requisition_id), count(first_invoice_at), "
        "count(first_payment_at) from analytics.fct_procure_to_pay",
    )
    assert int(lines) > 0
    assert int(requisitions) > 0
    assert int(invoiced) > 0
    assert int(paid) > 0


@pytest.mark.meltano
@pytest.mark.dbt
@pytest.mark.timeout(1200)
def test_source_freshness_reads_the_load_time(project: Project) -> None:
    project.meltano("invoke", "dbt-duckdb:freshness", log_name="freshness.log")
    freshness = json.loads((project.tmp / "dbt-target" / "sources.json").read_text())
    statuses = {r["status"] for r in freshness["results"]}
    assert statuses == {"pass"}
    checked = {r["unique_id"].rsplit(".", 1)[1] for r in freshness["results"]}
    assert set(generate_staging.FRESHNESS) <= checked


@pytest.mark.meltano
@pytest.mark.dbt
@pytest.mark.timeout(1200)
def test_incremental_run_equals_full_refresh(project: Project, emulator: RunningEmulator) -> None:
    before = snapshot(project.db)
    # Users work in Coupa: one invoice loses a line (with its allocations), some change, some
    # are added.
    invoices = emulator.control.records("invoices")
    target = next(
        inv
        for inv in invoices
        if len(inv["invoice-lines"]) >= 2 and inv["invoice-lines"][-1]["account-allocations"]
    )
    removed = target["invoice-lines"].pop()
    emulator.control.replace_record("invoices", target)
    emulator.control.add_mutation(after_requests=0, resource="invoices", update=3, insert=2)

    project.meltano("run", "tap-coupa", "target-duckdb", log_name="run2.log")
    project.meltano("invoke", "dbt-duckdb:build", log_name="build2.log")
    assert not failures(project.results())
    incremental = snapshot(project.db)
    assert incremental != before
    line_ids = {row[0] for row in incremental["staging.stg_coupa__invoice_lines"]}
    assert str(removed["id"]) not in line_ids
    assert str(removed["id"]) in {row[0] for row in before["staging.stg_coupa__invoice_lines"]}
    spend_lines = {row[1] for row in incremental["analytics.fct_spend"]}
    assert str(removed["id"]) not in spend_lines
    # The raw table still has the removed line: only the staging layer drops it.
    [[raw]] = query(
        project.db, f"select count(*) from coupa.invoice_lines where id = {removed['id']}"
    )
    assert raw == "1"

    project.meltano("invoke", "dbt-duckdb:full-refresh", log_name="full-refresh.log")
    assert not failures(project.results())
    assert snapshot(project.db) == incremental


@pytest.mark.meltano
@pytest.mark.dbt
@pytest.mark.timeout(1200)
def test_absent_streams_are_skipped(project: Project) -> None:
    copy = project.tmp / "without-some-streams.duckdb"
    shutil.copy(project.db, copy)
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "for table in sys.argv[2:]:\n"
        "    con.execute('drop table coupa.' + table)\n"
        "con.close()\n"
    )
    subprocess.run([str(tasks.loader_python()), "-c", script, str(copy), *ABSENT], check=True)
    project.meltano("invoke", "dbt-duckdb:full-refresh", log_name="absent.log", db=copy)
    assert not failures(project.results())
    for stream in ABSENT:
        assert query(copy, f"select count(*) from staging.stg_coupa__{stream}") == [["0"]]
    columns = {
        row[0]
        for row in query(
            copy,
            "select column_name from information_schema.columns "
            "where table_name = 'stg_coupa__invoice_line_allocations'",
        )
    }
    assert {"id", "amount", "pct", "invoice_id", "invoice_line_id", "account_id"} <= columns
    # Without allocations, spend has one row per line.
    [[rows, lines]] = query(
        copy,
        "select (select count(*) from analytics.fct_spend), "
        "(select count(*) from staging.stg_coupa__invoice_lines)",
    )
    assert rows == lines


def test_documented_build_times_are_the_benchmarks_output() -> None:
    spec = importlib.util.spec_from_file_location(
        "dbt_build", tasks.ROOT / "benchmarks" / "dbt_build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = json.loads(bench.RESULTS.read_text())
    assert bench.markdown(results) in bench.DOC.read_text()
