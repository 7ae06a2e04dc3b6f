"""Every shell block in README.md and docs/*.md runs, and every output they show is compared.

The blocks (```bash, ```sh, ```shell, ```console) are collected when the tests are collected, one
test per block, in reading order: README.md first, then docs/output.md (it queries the database
README's demo wrote, and runs `demo --changes`, before docs/meltano.md clears the demo's state),
then the other docs/*.md by name. New blocks and pages are picked up without touching this
file. They run in a scratch copy of the repository (its `.venv` and `.venv-orchestrator` are the
real ones, linked; Meltano installs its own plugins there; state, logs and DuckDB file stay in
the copy), with `.venv/bin` first on PATH as after `source .venv/bin/activate`, stderr merged
into stdout, Python unbuffered and a 100-column terminal (tasks.py wraps its paragraphs to the
terminal's width).

Outputs. In a ```console block, the lines after a `$ command` (up to the next `$`) are what that
command prints, stdout and stderr together, and the test compares them with what it printed.
A command shown without output is run, not compared. The comparison ignores blank lines,
leading and trailing spaces and the width of runs of spaces (tables line up differently when a
number grows), and reads these placeholders for what varies from run to run (docs/docs-tests.md):

- `...` alone on a line: any number of lines, none included;
- `...` inside a line, or `<text>`: any text on that line;
- `<n>`: a number (`7`, `+16`, `3,935`, `12.5`); `<seconds>`: the same, for a duration;
- `<size>`: a byte size (`25.4 MB`, `0 B`); `<timestamp>`: `2026-12-01 14:48:15` (also with `T`,
  fractions and an offset); `<url>`: an http(s) URL; `<path>`: one word without spaces.

Everything else must match exactly, so a changed message or number fails the test with the
documented text, the actual output (ports put back to the documented ones, ready to paste) and
the first documented line that does not match. ```text and bare ``` blocks are never run: they
must not show numbers (use placeholders, or run the command in a ```console block) unless marked
`<!-- docs-test: not-output REASON -->` (a file tree, a format).

An HTML comment right above a block changes how it runs:

- `<!-- needs: real-coupa -->`: it needs a real Coupa instance; listed as skipped with that reason.
- `<!-- docs-test: skip REASON -->`: not run, listed as skipped with REASON.
- `<!-- docs-test: background -->`: a server (the emulator); started in the background, waited
  for until it prints its URL (and the lines the block shows, which are compared), stopped when
  the document ends.
- `<!-- docs-test: fails -->`: shows an error on purpose; it must exit non-zero.
- `<!-- docs-test: expect REGEX -->`: its output must match REGEX (what the doc promises);
  repeat the comment for several.
- `<!-- docs-test: timeout SECONDS [REASON] -->`: more time than the default 240 s (at most
  840: the test's own limit is 900 s).

Each document gets its own free ports in place of the documented 8080, 8081 and 8082 (in its
blocks, in the outputs they show and in the copy's `meltano.yml`), so runs never collide and a
document can run several emulators, and the copy's
`meltano.yml` is restored between documents. `python3 tasks.py test` is this suite, so it is
not run from here, and `python3 tasks.py demo` without options runs once per session (the first
document that shows it; a later document's output for it is not compared).
"""

# ruff: noqa: S603 - runs documented commands from this repository's own docs

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import tasks

pytestmark = [pytest.mark.meltano]

ROOT = tasks.ROOT
#: Pages that continue README's demo: they run right after README, in this order.
FOLLOWS_README = (ROOT / "docs" / "output.md",)
DOCUMENTS = [
    ROOT / "README.md",
    *FOLLOWS_README,
    *sorted(set((ROOT / "docs").glob("*.md")) - set(FOLLOWS_README)),
]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
#: Ports the docs use, each its own server: the `dev` environment's emulator (8080),
#: docs/running.md's slow one (8081), troubleshooting's (8082). A reader can follow every page
#: at once.
DOCUMENTED_PORTS = ("8080", "8081", "8082")
PORT_PATTERN = re.compile(r"\b(?:" + "|".join(DOCUMENTED_PORTS) + r")\b")
DEFAULT_TIMEOUT_S = 240
BASH = shutil.which("bash") or "/bin/bash"
BACKGROUND_START_S = 60
#: Commands that are not run from a document: the suite itself.
NOT_RUN = (re.compile(r"^python3 tasks\.py test\b"),)
#: Commands run once per session: the second document showing them reuses the first run.
ONCE = {"python3 tasks.py demo"}

STEP_MARKER = "@@docs-test step %d@@"
STEP_LINE = re.compile(r"@@docs-test step (\d+)@@")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
URL = re.compile(r"https?://127\.0\.0\.1:\d+")
SCRATCH_IGNORE = shutil.ignore_patterns(
    ".venv", ".venv-orchestrator", ".meltano", ".git", "output", "build", "dist", "__pycache__",
    "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.duckdb", "*.duckdb.wal", ".env",
    ".state", "plugins", "dead-letter*.jsonl",
)  # fmt: skip


@dataclass(frozen=True)
class Block:
    """One fenced shell block and the markers written above it."""

    doc: Path
    line: int
    language: str
    text: str
    markers: tuple[str, ...]

    @property
    def id(self) -> str:
        """`README.md:147` (the fence's line)."""
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    def marker(self, name: str) -> str | None:
        """The argument of `name` (`needs`, `docs-test skip`, ...) or None when absent."""
        found = self.all_markers(name)
        return found[0] if found else None

    def all_markers(self, name: str) -> list[str]:
        """The arguments of every `name` marker above the block (`docs-test: expect` repeats)."""
        return [
            marker[len(name) :].lstrip(": ").strip()
            for marker in self.markers
            if marker == name or marker.startswith((name + " ", name + ":"))
        ]

    def commands(self) -> list[str]:
        """The shell lines: `$ ` lines (and their continuations) of a console block, else all."""
        return [line for step in self.steps() for line in step.command]

    def steps(self) -> list[Step]:
        """Each command with the output shown under it (a console block's), in order."""
        lines = self.text.splitlines()
        if self.language != "console":
            return [Step(lines, [])] if lines else []
        steps: list[Step] = []
        continuing = False
        for line in lines:
            if line.startswith("$ "):
                steps.append(Step([line[2:]], []))
                continuing = line.rstrip().endswith("\\")
            elif continuing:
                steps[-1].command.append(line)
                continuing = line.rstrip().endswith("\\")
            elif steps:
                steps[-1].expected.append(line)
        return steps


@dataclass
class Step:
    """One command of a block and the output the document shows for it (may be none)."""

    command: list[str]
    expected: list[str]


#: What each placeholder of a shown output matches (the module docstring lists them).
PLACEHOLDERS = {
    "<n>": r"[+-]?\d[\d,]*(?:\.\d+)?",
    "<seconds>": r"\d[\d,]*(?:\.\d+)?",
    "<size>": r"\d[\d,]*(?:\.\d+)? [KMGT]?B",
    "<timestamp>": r"(?:\d{4}-\d\d-\d\d[ T])?\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?",
    "<url>": r"https?://[^\s'\"<>]+",
    "<path>": r"\S+",
    "<text>": r".*?",
    "...": r".*?",
}
PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS) + r"|[ \t]+")
SKIP_LINES = "..."


def line_pattern(line: str) -> str:
    """One documented output line as a regex: placeholders, flexible spaces, the rest literal."""
    parts: list[str] = []
    position = 0
    for found in PLACEHOLDER.finditer(line):
        parts.append(re.escape(line[position : found.start()]))
        token = found.group(0)
        parts.append(PLACEHOLDERS.get(token, r"[ \t]+"))
        position = found.end()
    parts.append(re.escape(line[position:]))
    return "".join(parts)


def significant(lines: list[str]) -> list[str]:
    """Lines without leading/trailing spaces, blank ones dropped."""
    return [line.strip() for line in lines if line.strip()]


def output_pattern(expected: list[str], *, open_end: bool = False) -> re.Pattern[str]:
    """A regex for the whole output: one line each, `...` lines for any number of lines."""
    parts = [
        r"(?:[^\n]*\n)*?" if line == SKIP_LINES else line_pattern(line) + r"\n"
        for line in significant(expected)
    ]
    if open_end:
        parts.append(r"(?:[^\n]*\n)*")
    return re.compile("".join(parts))


def output_mismatch(expected: list[str], actual: str, *, open_end: bool = False) -> str | None:
    """None when `actual` is what `expected` shows; else the first documented line that fails."""
    text = "".join(line + "\n" for line in significant(actual.splitlines()))
    if output_pattern(expected, open_end=open_end).fullmatch(text):
        return None
    shown = significant(expected)
    for count in range(1, len(shown) + 1):
        if not output_pattern(shown[:count], open_end=True).fullmatch(text):
            return f"documented line {count} does not match: {shown[count - 1]!r}"
    return "the output goes on after the last documented line (end it with `...`)"


def mismatch_report(block: Block, step: Step, actual: str, problem: str) -> str:
    """What the lead needs to update the docs: where, what differs, documented vs actual."""
    command = " ".join(line.strip() for line in step.command)
    return (
        f"{block.id}: the output of `{command}` is not what the document shows: {problem}.\n"
        "Placeholders: `...` (lines or text), <n>, <seconds>, <size>, <timestamp>, <url>, "
        "<path>, <text> (tests/test_docs_run.py, docs/docs-tests.md).\n"
        f"--- documented ({block.doc.relative_to(ROOT)})\n"
        + "\n".join(step.expected)
        + "\n--- actual\n"
        + actual.rstrip()
        + "\n--- end"
    )


def parse(doc: Path) -> list[Block]:
    """The shell blocks of one Markdown file, with the marker comments directly above each."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        fence = opened["fence"]
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        language = opened["lang"].lower()
        markers: list[str] = []
        above = index - 1
        while above >= 0 and (found := MARKER.match(lines[above])):
            markers.insert(0, " ".join(found["body"].split()))
            above -= 1
        blocks.append(
            Block(doc, index + 1, language, "\n".join(lines[index + 1 : end]), tuple(markers))
        )
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    """Every shell block of every document, in reading order."""
    return [block for block in fenced_blocks() if block.language in SHELL_LANGUAGES]


def fenced_blocks() -> list[Block]:
    """Every fenced block of every document, whatever its language."""
    return [block for doc in DOCUMENTS if doc.exists() for block in parse(doc)]


def command_of(line: str) -> str:
    """A shell line without its trailing comment and extra spaces (for the ONCE/NOT_RUN rules)."""
    return " ".join(re.sub(r"\s+#.*$", "", line).split())


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DocProject:
    """The scratch copy the blocks run in, and what the blocks left running."""

    root: Path
    env: dict[str, str]
    pristine_meltano_yml: str
    logs: Path
    doc: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    ran_once: set[str] = field(default_factory=set)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def enter(self, doc: Path) -> None:
        """Start a document: stop the last one's servers, restore meltano.yml, pick a port."""
        if doc == self.doc:
            return
        self.stop_background()
        self.doc = doc
        self.ports = {}
        while len(set(self.ports.values())) < len(DOCUMENTED_PORTS):
            self.ports = {documented: free_port() for documented in DOCUMENTED_PORTS}
        (self.root / "meltano.yml").write_text(self.localise(self.pristine_meltano_yml))

    def localise(self, text: str) -> str:
        """The documented ports replaced by this document's ports."""
        return PORT_PATTERN.sub(lambda m: str(self.ports.get(m.group(0), m.group(0))), text)

    def unlocalise(self, text: str) -> str:
        """Actual output with this document's ports shown as the documented ones (to paste)."""
        for documented, port in self.ports.items():
            text = re.sub(rf"\b{port}\b", documented, text)
        return text

    def script(self, block: Block) -> tuple[str, list[str], dict[int, Step]]:
        """The block as one bash script, the commands left out (with why), the steps to compare.

        Each command of a console block is preceded by a marker line on stdout, so that the
        output can be cut into what each command printed.
        """
        kept: list[str] = []
        left_out: list[str] = []
        compared: dict[int, Step] = {}
        for number, step in enumerate(block.steps()):
            lines = self.runnable(step.command, left_out)
            if not lines:
                continue
            if block.language == "console":
                kept.append(f"printf '\\n{STEP_MARKER}\\n' {number}")
            kept += lines
            if significant(step.expected):
                compared[number] = Step(
                    step.command, self.localise("\n".join(step.expected)).splitlines()
                )
        return self.localise("\n".join(kept)), left_out, compared

    def runnable(self, lines: list[str], left_out: list[str]) -> list[str]:
        """`lines` without the commands that are not run here (NOT_RUN, a second ONCE).

        Every line of a ```bash block is looked at, not only the first: README's first block
        shows `python3 tasks.py demo` and then `python3 tasks.py test`. A left-out command's
        continuation lines (after a trailing backslash) are left out with it.
        """
        kept: list[str] = []
        dropping = False
        for line in lines:
            if dropping:
                dropping = line.rstrip().endswith("\\")
                continue
            command = command_of(line)
            reason = None
            if any(rule.match(command) for rule in NOT_RUN):
                reason = "this is the test suite itself"
            elif command in ONCE and command in self.ran_once:
                reason = "already ran in this session"
            if reason is not None:
                left_out.append(f"{command} ({reason})")
                dropping = line.rstrip().endswith("\\")
                continue
            if command in ONCE:
                self.ran_once.add(command)
            kept.append(line)
        return kept

    def run(self, block: Block, script: str) -> subprocess.CompletedProcess[str]:
        """Run a block's script to completion (stderr merged into stdout, in order)."""
        timeout = int((block.marker("docs-test: timeout") or str(DEFAULT_TIMEOUT_S)).split()[0])
        try:
            return subprocess.run(
                [BASH, "-e", "-o", "pipefail", "-c", script],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{block.id} did not finish within {timeout} s:\n{script}\n{exc.output}")

    def compare(self, block: Block, output: str, compared: dict[int, Step]) -> None:
        """Fail with the documented and the actual text when a shown output differs."""
        printed: dict[int, str] = {}
        number = -1
        for line in output.splitlines():
            if found := STEP_LINE.fullmatch(line):
                number = int(found.group(1))
                printed[number] = ""
            elif number >= 0:
                printed[number] += line + "\n"
        for number, step in compared.items():
            actual = printed.get(number, "")
            problem = output_mismatch(step.expected, actual)
            if problem is not None:
                pytest.fail(mismatch_report(block, step, self.unlocalise(actual), problem))

    def start(self, block: Block, script: str, compared: dict[int, Step]) -> str:
        """Start a server block in the background; return the URL it prints.

        When the block shows the server's first lines, waits for them and compares them.
        """
        log = self.logs / (block.id.replace("/", "_").replace(":", "_") + ".log")
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [BASH, "-c", script],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append(process)
        deadline = time.monotonic() + BACKGROUND_START_S
        expected = [line for step in compared.values() for line in step.expected]
        while time.monotonic() < deadline:
            lines = log.read_text(errors="replace").splitlines()
            text = "\n".join(line for line in lines if not STEP_LINE.fullmatch(line))
            found = URL.search(text)
            shown = len([x for x in significant(expected) if x != SKIP_LINES])
            if found and len(significant(text.splitlines())) >= shown:
                problem = output_mismatch(expected, text, open_end=True) if expected else None
                if problem is not None:
                    step = Step([line for s in compared.values() for line in s.command], expected)
                    pytest.fail(mismatch_report(block, step, self.unlocalise(text), problem))
                return found.group(0)
            if process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"{block.id} printed no URL within {BACKGROUND_START_S} s:\n{log.read_text()}")

    def stop_background(self) -> None:
        """Stop the servers this module started (their own process groups), politely first."""
        for process in self.background:
            for sig in (signal.SIGINT, signal.SIGKILL):
                if process.poll() is not None:
                    break
                os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    continue
        self.background.clear()


def link_venv(root: Path) -> None:
    """`root/.venv`: a link to every part of the real `.venv`, and its own install stamp.

    tasks.py reinstalls `.venv` when its stamp does not match pyproject.toml and
    constraints.txt; from a scratch copy that would point the shared `.venv` at the copy. The
    copy gets a stamp that matches its own files, so tasks.py uses `.venv` as it is.
    """
    venv = root / ".venv"
    venv.mkdir()
    for entry in tasks.VENV.iterdir():
        if entry.name != tasks.STAMP.name:
            (venv / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = root / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    digest.update(sys.version.encode())
    (venv / tasks.STAMP.name).write_text(digest.hexdigest() + "\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocProject]:
    """A scratch copy of the repository whose `.venv` is the real one, seen through links."""
    base = tmp_path_factory.mktemp("docs")
    root = base / "project"
    shutil.copytree(ROOT, root, ignore=SCRATCH_IGNORE, symlinks=True)
    link_venv(root)
    if sys.version_info[:2] <= tasks.MAX_ORCHESTRATOR_PYTHON:
        # `python3 tasks.py multi-tenant` (docs/multi-tenant.md) uses the real, stamped one.
        tasks.ensure_orchestrator_venv(quiet=True)
        (root / tasks.ORCHESTRATOR_VENV.name).symlink_to(tasks.ORCHESTRATOR_VENV, True)
    logs = base / "logs"
    logs.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_COUPA_", "TARGET_COUPA_", "TARGET_DUCKDB_", "MELTANO_"))
        and k not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(
        {
            "PATH": f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as they were written
            "COLUMNS": "100",  # tasks.py wraps its paragraphs to the terminal: as shown
        }
    )
    proj = DocProject(root, env, (ROOT / "meltano.yml").read_text(), logs)
    try:
        yield proj
    finally:
        proj.stop_background()


BLOCKS = all_blocks()


def test_the_docs_have_shell_blocks() -> None:
    """Guards the parser: README.md shows the two commands and the docs show many more."""
    assert any("python3 tasks.py demo" in b.text for b in BLOCKS if b.doc.name == "README.md")
    assert len(BLOCKS) >= 10


@pytest.mark.timeout(900)
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_documented_block_runs(block: Block, project: DocProject) -> None:
    project.enter(block.doc)
    needs = block.marker("needs")
    if needs is not None:
        pytest.skip(f"needs {needs}: marked `<!-- needs: {needs} -->` in {block.id}")
    skip = block.marker("docs-test: skip")
    if skip is not None:
        pytest.skip(f"{skip or 'marked skip'} ({block.id})")
    script, left_out, compared = project.script(block)
    if not script.strip():
        pytest.skip(f"nothing left to run in {block.id}: " + "; ".join(left_out))
    if block.marker("docs-test: background") is not None:
        assert project.start(block, script, compared).startswith("http://127.0.0.1:")
        return
    result = project.run(block, script)
    output = result.stdout.replace(tasks.DEMO_CLIENT_SECRET, "***")
    if block.marker("docs-test: fails") is not None:
        assert result.returncode != 0, f"{block.id} should fail but exited 0:\n{output[-3000:]}"
    else:
        assert result.returncode == 0, (
            f"{block.id} exited {result.returncode}:\n$ {script}\n{output[-4000:]}"
        )
    for expected in block.all_markers("docs-test: expect"):
        assert re.search(expected, output), f"{block.id}: no match for {expected!r}:\n{output}"
    project.compare(block, output, compared)


#: Where the messages quoted in the docs come from: our packages, the task runner (tasks.py and
#: its devtasks package), and the tools around.
MESSAGE_SOURCES = [
    *(
        ROOT / name
        for name in ("coupa_api", "tap_coupa", "target_coupa", "coupa_emulator", "devtasks")
    ),
    ROOT / "tasks.py",
    *(
        tasks.VENV / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        / name
        for name in ("singer_sdk", "meltano", "jsonschema")
    ),
]  # fmt: skip
MESSAGE = re.compile(r"<!--\s*message:\s*(?P<text>.*?)\s*-->")


def quoted_messages() -> list[tuple[str, str]]:
    """(where, fragment) for every `<!-- message: FRAGMENT -->` in the docs."""
    found: list[tuple[str, str]] = []
    for doc in DOCUMENTS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            found += [
                (f"{doc.relative_to(ROOT)}:{number}", m["text"]) for m in MESSAGE.finditer(line)
            ]
    return found


def test_quoted_messages_are_what_the_tools_print() -> None:
    """Each message the troubleshooting guide quotes is still in the code that prints it."""
    quoted = quoted_messages()
    assert len(quoted) >= 10
    sources = [
        path.read_text(encoding="utf-8", errors="replace")
        for root in MESSAGE_SOURCES
        for path in ([root] if root.is_file() else sorted(root.rglob("*.py")))
    ]
    missing = [(where, text) for where, text in quoted if not any(text in s for s in sources)]
    assert missing == []


NUMBER = re.compile(r"\d")


def test_blocks_that_are_not_run_show_no_numbers() -> None:
    """A ```text or bare block is never compared, so it may show no number a run could change.

    Outputs belong in ```console blocks (compared) or use placeholders; file trees and formats
    are marked `<!-- docs-test: not-output REASON -->`.
    """
    unchecked = [
        f"{block.id}: {line.strip()}"
        for block in fenced_blocks()
        if block.language in {"", "text"} and block.marker("docs-test: not-output") is None
        for line in block.text.splitlines()
        if NUMBER.search(line_without_placeholders(line))
    ]
    assert unchecked == [], (
        "These lines of ```text/bare blocks show numbers no test compares: show the command's "
        "output in a ```console block (the test compares it), use placeholders (<n>, ...), or "
        "mark a file tree or format `<!-- docs-test: not-output REASON -->`:\n"
        + "\n".join(unchecked)
    )


def line_without_placeholders(line: str) -> str:
    """A line with its placeholders removed."""
    for placeholder in PLACEHOLDERS:
        line = line.replace(placeholder, "")
    return line


def test_shown_outputs_are_compared_with_placeholders() -> None:
    """The comparison itself: placeholders, `...` lines, spacing, and a failure that shows both."""
    shown = ["table    rows  new", "...", "coupa.invoices  <n>  +5", "total  <n>  <n>", "..."]
    actual = (
        "table  rows  new\n\ncoupa.a  1  +0\ncoupa.invoices     505     +5\ntotal 3,935 +16\nx\n"
    )
    assert output_mismatch(shown, actual) is None
    assert output_mismatch(shown[:-1], actual) is not None, "trailing lines need a `...`"
    wrong = actual.replace("+5", "+0")
    assert output_mismatch(shown, wrong) == (
        "documented line 3 does not match: 'coupa.invoices  <n>  +5'"
    )
    assert output_mismatch(["listening on <url>", "client: ... (every scope)"], (
        "listening on http://127.0.0.1:41237\nclient: demo / demo-secret (every scope)\n"
    )) is None  # fmt: skip
    assert output_mismatch(["took <seconds> s, <size>, at <timestamp>"], (
        "took 3.7 s, 25.4 MB, at 2026-12-01 14:48:15"
    )) is None  # fmt: skip
    console = Block(ROOT / "README.md", 1, "console", "$ echo a\na\n$ true\n$ echo b\nc", ())
    runner = DocProject(ROOT, dict(os.environ), "", ROOT)
    script, _, compared = runner.script(console)
    result = runner.run(console, script)
    with pytest.raises(
        pytest.fail.Exception, match=r"(?s)`echo b`.*documented.*\nc\n--- actual\nb"
    ):
        runner.compare(console, result.stdout, compared)
    assert sorted(compared) == [0, 2]


def test_a_block_fails_on_any_failing_command(tmp_path: Path) -> None:
    """The runner's guarantee: a failing line or pipeline stage fails the block."""
    runner = DocProject(tmp_path, dict(os.environ), "", tmp_path)
    doc = tmp_path / "doc.md"
    for text in ("false\ntrue", "false | cat", "echo ok"):
        block = Block(doc, 1, "bash", text, ())
        script, _, _ = runner.script(block)
        assert (runner.run(block, script).returncode == 0) == (text == "echo ok"), text
    console = Block(doc, 1, "console", "$ echo one \\\n  two\nnot a command\n$ true", ())
    assert console.commands() == ["echo one \\", "  two", "true"]


def test_the_suite_and_a_second_demo_are_left_out_of_any_line(tmp_path: Path) -> None:
    """Every line is looked at: README's first block runs the demo, never the suite itself."""
    runner = DocProject(tmp_path, dict(os.environ), "", tmp_path)
    readme_like = Block(
        tmp_path / "doc.md", 1, "bash",
        "python3 tasks.py demo    # the demo\npython3 tasks.py test    # the whole suite", (),
    )  # fmt: skip
    script, left_out, _ = runner.script(readme_like)
    assert script.splitlines() == ["python3 tasks.py demo    # the demo"]
    assert left_out == ["python3 tasks.py test (this is the test suite itself)"]
    again = Block(tmp_path / "other.md", 1, "console", "$ python3 tasks.py demo\n...\n$ echo x", ())
    script, left_out, compared = runner.script(again)
    assert "tasks.py demo" not in script
    assert left_out == ["python3 tasks.py demo (already ran in this session)"]
    assert sorted(compared) == []  # the left-out demo's output is not compared


def test_timestamps_with_a_comma_before_the_milliseconds_match() -> None:
    """Python logging's `%(asctime)s` writes `2026-12-03 19:01:37,556`."""
    for stamp in ("2026-12-03 19:01:37,556", "19:01:37,556", "2026-12-01T14:48:15.123456Z"):
        assert output_mismatch(["at <timestamp> done"], f"at {stamp} done\n") is None, stamp


SERVER_PORT = re.compile(r"--port\s+(\d+)")


def test_servers_the_docs_start_on_one_port_are_the_same_server() -> None:
    """A reader following several pages at once never finds the port taken by another server."""
    by_port: dict[str, set[str]] = {}
    for block in BLOCKS:
        if block.marker("docs-test: background") is None:
            continue
        for command in block.commands():
            if (found := SERVER_PORT.search(command)) and found.group(1) != "0":
                by_port.setdefault(found.group(1), set()).add(command_of(command))
    assert by_port, "the docs start emulators in the background"
    assert {port: commands for port, commands in by_port.items() if len(commands) > 1} == {}
    assert set(by_port) <= set(DOCUMENTED_PORTS), "the docs test gives each documented port its own"


def test_the_multi_tenant_example_runs_from_its_docs() -> None:
    """docs/multi-tenant.md has one command that runs the example here, and this suite runs it."""
    runnable = [
        block
        for block in BLOCKS
        if block.doc.name == "multi-tenant.md"
        and block.marker("needs") is None
        and "python3 tasks.py multi-tenant" in block.commands()
    ]
    assert runnable, (
        "docs/multi-tenant.md shows `python3 tasks.py multi-tenant` as a runnable block"
    )


def test_the_multi_tenant_example_names_only_state_backends_meltano_has() -> None:
    """Meltano 4.4's state backends are systemdb, file, s3, gs and azure: no postgresql://."""
    example = ROOT / "examples" / "multi-tenant"
    files = [example / "meltano.yml", *sorted((example / "orchestration").glob("*.*"))]
    texts = {
        p: p.read_text(encoding="utf-8") for p in files if p.suffix in {".yml", ".yaml", ".py"}
    }
    assert texts
    assert [p for p, text in texts.items() if "postgresql://" in text] == []
