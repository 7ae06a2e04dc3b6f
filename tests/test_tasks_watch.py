"""The task runner's output: the demo's live lines and the loader wait, and wrapped paragraphs."""

# ruff: noqa: S603 - runs this interpreter on a fixed script

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import tasks
from devtasks.console import paragraph
from devtasks.meltano import watch

#: What a `meltano run` log holds, in order: discovery's own tap process ends first.
MELTANO_LOG = [
    "tap-coupa | tap-coupa finished: completed (exit 0) cmd_type=elb consumer=False",
    "tap-coupa | progress invoices: 450 records, 9 pages, 18.7 req/s, 0 429s, 0 retries",
    "tap-coupa | tap-coupa run summary (the total also counts token and discovery requests):",
    "tap-coupa |   invoices   500   11   0   0   2.5 MB   1.2",
    "tap-coupa | tap-coupa finished: completed (exit 0) cmd_type=elb consumer=False",
    "target-duckdb | INFO Target sink for 'invoices' is full. Draining...",
]


@pytest.mark.timeout(60)
def test_the_loader_wait_is_said_once_after_the_syncs_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "meltano-run.log"
    script = "import sys\nopen(sys.argv[1], 'w').write(sys.argv[2])\n"
    writer = subprocess.Popen([sys.executable, "-c", script, str(log), "\n".join(MELTANO_LOG)])
    assert watch(writer, log) == 0
    printed = capsys.readouterr().out.splitlines()
    waits = [n for n, line in enumerate(printed) if "target-duckdb is writing" in line]
    summary = next(n for n, line in enumerate(printed) if "tap-coupa run summary" in line)
    assert len(waits) == 1, printed
    assert waits[0] > summary, printed
    assert any("progress invoices: 450 records" in line for line in printed)


def test_paragraphs_never_split_a_path_or_a_command_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrapped message keeps `output/logs/multi-tenant.log` on one line, to copy it."""
    monkeypatch.setenv("COLUMNS", "100")
    text = (
        "globex failed alone (its secret is wrong; the reason is in its run's log, "
        "output/logs/multi-tenant.log) and the tenants before and after it loaded their own "
        "instance's records into examples/multi-tenant/output/coupa_<tenant>/."
    )
    words = paragraph(text).split()
    assert "output/logs/multi-tenant.log)" in words
    assert "examples/multi-tenant/output/coupa_<tenant>/." in words


def test_every_name_tests_and_benchmarks_use_from_tasks_exists() -> None:
    """tasks.py is a bootstrap that re-exports what tests use from the devtasks package.

    A name used as `tasks.<name>` that it no longer re-exports would fail only in a slow test.
    """
    root = Path(tasks.ROOT)
    used = {
        name
        for folder in ("tests", "benchmarks")
        for path in (root / folder).rglob("*.py")
        if re.search(r"^import tasks$", path.read_text(encoding="utf-8"), re.MULTILINE)
        for name in re.findall(r"\btasks\.([A-Za-z_]\w*)", path.read_text(encoding="utf-8"))
    } - {"py"}
    assert used, "tests import names from tasks"
    assert sorted(name for name in used if not hasattr(tasks, name)) == []
