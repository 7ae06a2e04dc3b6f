"""`.venv`: created and kept in step with pyproject.toml and constraints.txt (stdlib only)."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from devtasks.console import TaskError, bin_path, paragraph, run_logged, say, tail
from devtasks.paths import CONSTRAINTS, LOGS, ROOT, STAMP, VENV


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
