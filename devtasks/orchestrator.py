"""The multi-tenant example (examples/multi-tenant): its Dagster venv and an end-to-end run."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from devtasks.console import TaskError, bin_path, paragraph, run_logged, say, tail
from devtasks.emulator import Emulator, control_post
from devtasks.paths import LOGS, OUTPUT, ROOT
from devtasks.venv import ensure_venv

MULTI_TENANT = ROOT / "examples" / "multi-tenant"
ORCHESTRATOR_VENV = ROOT / ".venv-orchestrator"
ORCHESTRATOR_PINS = (MULTI_TENANT / "requirements.txt", MULTI_TENANT / "constraints.txt")
#: dagster-meltano 1.5.5 declares Requires-Python <3.13 (docs/multi-tenant.md).
MAX_ORCHESTRATOR_PYTHON = (3, 12)


def ensure_orchestrator_venv(*, quiet: bool = False) -> Path:
    """Create or refresh `.venv-orchestrator`: Dagster, dagster-meltano and Meltano, pinned.

    Under a lock: parallel test workers (and two shells) may ask for it at the same moment.
    """
    with exclusive(ROOT / ".venv-orchestrator.lock"):
        return _ensure_orchestrator_venv(quiet=quiet)


@contextlib.contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock` (a file) while the block runs; POSIX only, else no-op."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # Windows: one shell at a time, as before
        yield
        return
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_orchestrator_venv(*, quiet: bool) -> Path:
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


def jsonl_rows(path: Path) -> int:
    """Non-empty lines of a JSON Lines file (0 when it does not exist)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
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
