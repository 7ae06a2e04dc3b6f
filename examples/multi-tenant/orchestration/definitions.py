"""Dagster definitions for the multi-tenant Meltano project: one job and one schedule per tenant.

dagster-meltano reads the Meltano project's jobs and schedules (`meltano job list`, `meltano
schedule list`) and turns each Meltano job into a Dagster job that runs `meltano run <tasks>`,
and each Meltano schedule into a Dagster schedule. meltano.yml stays the one place that says
what runs and when; Dagster adds the UI (run history per tenant), retries, run queues and
workers. Each job is re-tagged `coupa/tenant=<tenant>` so that the instance's run queue
(dagster.yaml) never runs two jobs of one tenant at once: one tenant, one rate budget, one state.

    .venv-orchestrator/bin/dagster dev -f examples/multi-tenant/orchestration/definitions.py
    .venv-orchestrator/bin/python examples/multi-tenant/orchestration/definitions.py [TENANT...]

The second form runs the tenants' jobs once, in process, one after another, prints one JSON
line per tenant and exits 1 if any failed (tests/test_multi_tenant.py uses it).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dagster import Definitions, JobDefinition, ScheduleDefinition
from dagster_meltano import MeltanoResource, load_jobs_from_meltano_project

PROJECT_DIR = Path(__file__).resolve().parents[1]
TENANT_TAG = "coupa/tenant"
EXTRACTOR_PREFIX = "tap-coupa--"

# dagster-meltano runs the `meltano` found on PATH; use the one installed beside this Python
# (in .venv-orchestrator) even when the venv is not activated.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("MELTANO_PROJECT_ROOT", str(PROJECT_DIR))


def tenants_by_job() -> dict[str, str]:
    """Dagster job name -> tenant, from the Meltano jobs' tasks (`tap-coupa--acme target-jsonl`)."""
    # dagster-meltano keeps one MeltanoResource per process: this is the one it loaded jobs with.
    resource = MeltanoResource(str(PROJECT_DIR))
    tenants: dict[str, str] = {}
    for meltano_job in resource.meltano_jobs:
        for task in meltano_job.tasks:
            for plugin in task.split():
                if plugin.startswith(EXTRACTOR_PREFIX):
                    tenants[meltano_job.dagster_name] = plugin.removeprefix(EXTRACTOR_PREFIX)
    return tenants


def tagged(job: JobDefinition, tenant: str) -> JobDefinition:
    """The same job with a `coupa/tenant` tag, which the run queue limits per value."""
    return job.graph.to_job(
        name=job.name,
        description=job.description,
        resource_defs=job.resource_defs,
        tags={**job.tags, TENANT_TAG: tenant},
        op_retry_policy=job.op_retry_policy,
    )


def load() -> tuple[list[JobDefinition], list[ScheduleDefinition]]:
    """The tenants' Dagster jobs and schedules, read from meltano.yml through the Meltano CLI."""
    loaded = load_jobs_from_meltano_project(str(PROJECT_DIR))
    tenants = tenants_by_job()
    jobs = [tagged(d, tenants.get(d.name, d.name)) for d in loaded if isinstance(d, JobDefinition)]
    schedules = [d for d in loaded if isinstance(d, ScheduleDefinition)]
    return jobs, schedules


JOBS, SCHEDULES = load()
defs = Definitions(jobs=JOBS, schedules=SCHEDULES)


def run_once(tenants: list[str]) -> int:
    """Run each tenant's job in process; one tenant's failure never stops the next."""
    failed = 0
    for job in JOBS:
        tenant = job.tags[TENANT_TAG]
        if tenants and tenant not in tenants:
            continue
        started = time.monotonic()
        result = job.execute_in_process(raise_on_error=False)
        failed += not result.success
        summary = {
            "tenant": tenant,
            "job": job.name,
            "success": result.success,
            "seconds": round(time.monotonic() - started, 1),
            "run_id": result.run_id,
        }
        print(json.dumps(summary), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_once(sys.argv[1:]))
