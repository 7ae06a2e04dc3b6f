"""Three Coupa tenants scheduled by Dagster (examples/multi-tenant): two load, one fails alone.

Three emulators stand in for three tenants' instances. The example's Dagster definitions
(dagster-meltano over the example's meltano.yml) run each tenant's job through Dagster's own
in-process executor, in `.venv-orchestrator` (created once by tasks.py, ~40 s the first time).
globex's secret is wrong, as after a rotation nobody told the pipeline about: its run fails,
acme's before it and initech's after it load exactly their own instance's records, acme within
its own budget of 3 requests/s, and each tenant that succeeded has its own state id.
"""

# ruff: noqa: S603 - runs our own venvs' executables with fixed arguments

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tasks
from coupa_emulator.config import EmulatorConfig
from coupa_emulator.server import RunningEmulator, start_in_thread

pytestmark = [pytest.mark.orchestrator, pytest.mark.meltano, pytest.mark.timeout(900)]

EXAMPLE = tasks.MULTI_TENANT
DEFINITIONS = EXAMPLE / "orchestration" / "definitions.py"
#: meltano.yml's acme budget, and the client-side token bucket's burst (coupa_api.ratelimit).
ACME_RATE = 3.0
BURST = 20
STREAMS = tasks.TENANT_STREAMS


@dataclass
class Tenant:
    """One tenant: its emulator, its OAuth client and the secret the pipeline is given."""

    name: str
    emulator: RunningEmulator
    secret: str
    given_secret: str

    @property
    def output(self) -> Path:
        return tasks.tenant_output(self.name)


@pytest.fixture(scope="module")
def tenants() -> Iterator[dict[str, Tenant]]:
    """tasks.TENANTS, as `tasks.py multi-tenant` starts them: globex gets the wrong secret."""
    started: dict[str, Tenant] = {}
    try:
        for name, seed, scale in tasks.TENANTS:
            emulator = start_in_thread(EmulatorConfig(seed=seed, scale=scale, settle_seconds=0))
            secret = tasks.tenant_secret(name, seed)
            emulator.control.add_client(f"meltano-{name}", secret, list(tasks.TENANT_SCOPES))
            started[name] = Tenant(name, emulator, secret, tasks.tenant_given_secret(name, seed))
        yield started
    finally:
        for tenant in started.values():
            tenant.emulator.stop()


@pytest.fixture(scope="module")
def environment(
    tenants: dict[str, Tenant], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The orchestrator's environment (tasks.multi_tenant_env), with private state and homes."""
    work = tmp_path_factory.mktemp("multi-tenant") / "work"
    return tasks.multi_tenant_env({n: t.emulator.base_url for n, t in tenants.items()}, work)


def call(
    cmd: list[str | Path], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a command in the example project, bounded in time."""
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def orchestrated(
    environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Install the plugins, then run every tenant's Dagster job once, in process."""
    if sys.version_info[:2] > tasks.MAX_ORCHESTRATOR_PYTHON:
        pytest.skip("dagster-meltano 1.5.5 supports Python up to 3.12 (docs/multi-tenant.md)")
    log = tmp_path_factory.mktemp("multi-tenant-log") / "orchestrator.log"
    result, runs = tasks.multi_tenant_run(environment, log)
    assert set(runs) == {"acme", "globex", "initech"}, result.stdout[-2000:] + result.stderr[-3000:]
    return result, runs


def jsonl_ids(path: Path) -> list[int]:
    """The `id` of every record target-jsonl wrote to one stream's file."""
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def test_the_faulty_tenant_fails_alone(orchestrated) -> None:
    result, runs = orchestrated
    assert runs["globex"]["success"] is False
    assert runs["acme"]["success"] is True
    assert runs["initech"]["success"] is True, "the tenant after the failure must still run"
    assert result.returncode == 1, "the summary exit code reports the failed tenant"
    assert [r["job"] for r in runs.values()] == ["coupa_acme", "coupa_globex", "coupa_initech"]


def test_each_tenant_loads_exactly_its_own_records(tenants, orchestrated) -> None:
    for name in ("acme", "initech"):
        tenant = tenants[name]
        for stream in STREAMS:
            truth = sorted(r["id"] for r in tenant.emulator.control.records(stream))
            loaded = sorted(jsonl_ids(tenant.output / f"{stream}.jsonl"))
            assert loaded == truth, f"{name}/{stream}"
    assert len(jsonl_ids(tenants["acme"].output / "invoices.jsonl")) == 1500
    for name in ("acme", "initech"):  # the emulators' seeds differ: so do the invoice numbers
        path = tenants[name].output / "invoices.jsonl"
        loaded = {(r["id"], r["invoice-number"]) for r in map(json.loads, path.open())}
        truth = tenants[name].emulator.control.records("invoices")
        assert loaded == {(r["id"], r["invoice-number"]) for r in truth}, name
    globex = tenants["globex"].output
    assert not any(globex.glob("*.jsonl")) or all(p.stat().st_size == 0 for p in globex.glob("*"))


def test_acme_stays_within_its_own_rate_budget(tenants, orchestrated) -> None:
    """Each tap process (Meltano's discovery, then the sync) mints a token, then paces itself."""
    processes: list[list[float]] = []
    for entry in tenants["acme"].emulator.control.requests_log():
        if entry["path"] == "/oauth2/token":
            processes.append([])
        elif entry["path"].startswith("/api/") and processes:
            processes[-1].append(entry["time"])
    busiest = max(processes, key=len)
    assert len(busiest) > BURST + 10, f"only {len(busiest)} requests: the budget was never tested"
    for times in processes:
        for first in range(len(times)):
            for last in range(first + BURST, len(times)):
                # +3: the emulator stamps a request when it answers, so one slow response (a
                # first page of 1,500 invoices generated on first use, a busy machine) can
                # shorten a window by up to a second at 3 requests/s.
                allowed = BURST + ACME_RATE * (times[last] - times[first]) + 3
                assert last - first + 1 <= allowed, (
                    f"{last - first + 1} requests in {times[last] - times[first]:.2f} s: over "
                    f"acme's {ACME_RATE:g} requests/s"
                )


def test_each_successful_tenant_has_its_own_state(environment, orchestrated) -> None:
    meltano = tasks.bin_path(tasks.ORCHESTRATOR_VENV, "meltano")
    listed = call([meltano, "state", "list"], environment, timeout=120)
    assert listed.returncode == 0, listed.stderr[-2000:]
    ids = set(listed.stdout.split())
    assert {"dev:tap-coupa--acme-to-target-jsonl", "dev:tap-coupa--initech-to-target-jsonl"} <= ids
    assert "dev:tap-coupa--globex-to-target-jsonl" not in ids
    got = call([meltano, "state", "get", "dev:tap-coupa--acme-to-target-jsonl"], environment, 120)
    bookmarks = json.loads(got.stdout)["singer_state"]["bookmarks"]
    assert "replication_key_value" in bookmarks["invoices"]


def test_no_secret_reaches_the_orchestrators_logs(tenants, orchestrated) -> None:
    result, _ = orchestrated
    output = result.stdout + result.stderr
    for tenant in tenants.values():
        assert tenant.secret not in output
        assert tenant.given_secret not in output


INSPECT = """
import json, runpy, sys
from dagster import DagsterInstance
module = runpy.run_path(sys.argv[1])
defs = module["defs"]
jobs = {j.name: j.tags.get("coupa/tenant") for j in module["JOBS"]}
schedules = {s.name: [s.job_name, s.cron_schedule] for s in module["SCHEDULES"]}
queue = DagsterInstance.get().run_coordinator.get_run_queue_config()
print(json.dumps({"jobs": jobs, "schedules": schedules,
                  "limits": queue.tag_concurrency_limits, "max": queue.max_concurrent_runs}))
"""


def test_dagster_shows_each_tenant_and_queues_one_run_per_tenant(environment, orchestrated) -> None:
    """One job and one schedule per tenant in the UI; the instance never runs a tenant twice."""
    home = Path(environment["DAGSTER_HOME"])
    assert (home / "dagster.yaml").read_text() == DEFINITIONS.with_name("dagster.yaml").read_text()
    python = tasks.bin_path(tasks.ORCHESTRATOR_VENV, "python")
    result = call([python, "-c", INSPECT, DEFINITIONS], environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["jobs"] == {
        "coupa_acme": "acme",
        "coupa_globex": "globex",
        "coupa_initech": "initech",
    }
    assert seen["schedules"] == {
        "coupa_acme_hourly": ["coupa_acme", "5 * * * *"],
        "coupa_globex_hourly": ["coupa_globex", "20 * * * *"],
        "coupa_initech_daily": ["coupa_initech", "35 2 * * *"],
    }
    assert seen["limits"] == [
        {"key": "coupa/tenant", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert seen["max"] >= 1
