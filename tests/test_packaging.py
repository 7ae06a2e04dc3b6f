"""The built wheel installs working plugins without the emulator's server stack.

Builds the wheel once (offline: setuptools and wheel come from .venv, `--no-build-isolation`)
from a copy of the sources, so no `build/` appears in the work tree, then installs it with the
project's pins into a fresh venv (the pip cache makes this about 15 s) and runs the installed
console scripts there.
"""

# ruff: noqa: S603 - runs our own venvs' executables with fixed arguments

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import tasks
from coupa_emulator.server import RunningEmulator

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]

ROOT = tasks.ROOT
PACKAGES = ("coupa_api", "coupa_emulator", "tap_coupa", "target_coupa")
PRODUCTION = ("coupa_api", "tap_coupa", "target_coupa")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Distribution name -> the module it is imported as, where they differ.
IMPORT_NAMES = {"singer-sdk": "singer_sdk", "python-backoff": "backoff", "tzdata": "zoneinfo"}


def requirement_name(spec: str) -> str:
    """`singer-sdk[msgspec]==0.54.9` -> `singer-sdk`."""
    match = re.match(r"[A-Za-z0-9_.-]+", spec)
    assert match, spec
    return match.group(0).lower()


def imported_modules(package: str) -> set[str]:
    """Top-level modules a package imports (absolute imports only)."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def run(*cmd: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command with no stdin, capturing text output; never hangs past `timeout`."""
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once from a copy of the sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    out = tmp / "dist"
    result = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--disable-pip-version-check", "-w", out, src,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel and its pinned runtime dependencies."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    result = run(sys.executable, "-m", "venv", venv)
    assert result.returncode == 0, result.stderr
    python = tasks.bin_path(venv, "python")
    result = run(
        python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
        wheel, "-c", tasks.CONSTRAINTS,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return venv


def test_declared_dependencies_are_all_imported() -> None:
    runtime = {requirement_name(d) for d in PYPROJECT["project"]["dependencies"]}
    production_imports = set().union(*(imported_modules(p) for p in PRODUCTION))
    unused = {
        d for d in runtime if IMPORT_NAMES.get(d, d.replace("-", "_")) not in production_imports
    }
    assert not unused, f"declared but never imported by tap/target/coupa_api: {sorted(unused)}"


def test_every_third_party_import_is_declared() -> None:
    declared = {requirement_name(d) for d in PYPROJECT["project"]["dependencies"]}
    modules = {IMPORT_NAMES.get(d, d.replace("-", "_")) for d in declared}
    extras = PYPROJECT["project"]["optional-dependencies"]["emulator"]
    emulator_modules = modules | {IMPORT_NAMES.get(n, n) for n in map(requirement_name, extras)}
    for package, allowed in [
        *((p, modules) for p in PRODUCTION),
        ("coupa_emulator", emulator_modules),
    ]:
        third_party = imported_modules(package) - set(sys.stdlib_module_names) - set(PACKAGES)
        assert third_party <= allowed, (
            f"{package} imports undeclared {sorted(third_party - allowed)}"
        )


def test_emulator_stack_is_an_extra_used_only_by_the_emulator() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    emulator = {requirement_name(d) for d in extras["emulator"]}
    assert emulator == {"aiohttp", "tzdata"}
    runtime = {requirement_name(d) for d in PYPROJECT["project"]["dependencies"]}
    assert not emulator & runtime
    emulator_imports = imported_modules("coupa_emulator")
    for dist in emulator:
        module = IMPORT_NAMES.get(dist, dist)
        assert module in emulator_imports, f"{dist} is in [emulator] but the emulator never uses it"
        for package in PRODUCTION:
            assert module not in imported_modules(package), f"{package} imports {module}"
    venv_task = ROOT / "devtasks" / "venv.py"
    assert "dev,emulator" in venv_task.read_text(), "the venv task must install the extra"


def test_wheel_ships_typed_packages_and_one_version(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    for package in PACKAGES:
        assert f"{package}/py.typed" in names, package
    assert not any(n.startswith("tests/") for n in names)
    version = PYPROJECT["project"]["version"]
    assert f"\nVersion: {version}\n" in metadata
    plain_requires = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and ";" not in line
    ]
    assert plain_requires, metadata[:500]
    assert not [line for line in plain_requires if re.search(r"aiohttp|tzdata|pendulum", line)]


@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
def test_installed_plugins_describe_themselves(clean_venv: Path, executable: str) -> None:
    result = run(tasks.bin_path(clean_venv, executable), "--about", "--format=json", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    about = json.loads(result.stdout)
    assert about["name"] == executable
    assert about["version"] == PYPROJECT["project"]["version"]
    assert "client_secret" in about["settings"]["properties"]


def test_installed_wheel_has_no_emulator_stack(clean_venv: Path) -> None:
    python = tasks.bin_path(clean_venv, "python")
    result = run(python, "-c", "import aiohttp", timeout=60)
    assert result.returncode != 0
    assert "No module named 'aiohttp'" in result.stderr
    result = run(python, "-c", "import tap_coupa.tap, target_coupa.target, coupa_api.client")
    assert result.returncode == 0, result.stderr[-2000:]


def test_installed_tap_reads_coupa(
    clean_venv: Path, coupa: RunningEmulator, tmp_path: Path
) -> None:
    """The installed tap syncs over HTTP: everything it needs at run time came with the wheel."""
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "base_url": coupa.base_url,
                "client_id": "demo",
                "client_secret": "demo-secret",
                "token_settle_seconds": 0,
                "max_requests_per_second": 0,
            }
        )
    )
    result = run(tasks.bin_path(clean_venv, "tap-coupa"), "--config", config, "--test", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    streams = {
        json.loads(line)["stream"] for line in result.stdout.splitlines() if '"RECORD"' in line
    }
    assert "invoices" in streams
    assert "demo-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize("form", ["coupa-emulator", "python -m coupa_emulator"])
def test_installed_emulator_says_how_to_get_its_stack(clean_venv: Path, form: str) -> None:
    """The console script and `python -m` both explain the missing extra, in one paragraph."""
    if form == "coupa-emulator":
        command: list[str | Path] = [tasks.bin_path(clean_venv, "coupa-emulator")]
    else:
        command = [tasks.bin_path(clean_venv, "python"), "-m", "coupa_emulator"]
    result = run(*command, "--port", "0", timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]  # ExitCode.CONFIG
    assert "pip install 'tap-coupa[emulator]'" in result.stderr
    assert "Traceback" not in result.stderr
