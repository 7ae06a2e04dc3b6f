"""Every shell block in README.md and docs/*.md runs, so no documented command can rot.

The blocks (```bash, ```sh, ```shell, ```console) are collected when the tests are collected, one
test per block, in reading order: README.md first, then docs/*.md by name. New blocks are picked
up without touching this file. They run in a scratch copy of the repository (its `.venv` is the
real one, linked; Meltano installs its own plugins there; state, logs and DuckDB file stay in the
copy), with `.venv/bin` first on PATH as after `source .venv/bin/activate`.

An HTML comment right above a block changes how it runs:

- `<!-- needs: real-coupa -->`: it needs a real Coupa instance; listed as skipped with that reason.
- `<!-- docs-test: skip REASON -->`: not run, listed as skipped with REASON.
- `<!-- docs-test: background -->`: a server (the emulator); started in the background, waited
  for until it prints its URL, stopped when the document ends.
- `<!-- docs-test: fails -->`: shows an error on purpose; it must exit non-zero.
- `<!-- docs-test: expect REGEX -->`: its output must match REGEX (what the doc promises);
  repeat the comment for several.
- `<!-- docs-test: timeout SECONDS -->`: more time than the default 240 s.

Each document gets a free port in place of the documented 8080 (in its blocks and in the copy's
`meltano.yml`), so runs never collide, and the copy's `meltano.yml` is restored between
documents. `python3 tasks.py test` is this suite, so it is not run from here, and
`python3 tasks.py demo` without options runs once per session (the first document that shows it).
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
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
DOCUMENTED_PORT = "8080"
DEFAULT_TIMEOUT_S = 240
BASH = shutil.which("bash") or "/bin/bash"
BACKGROUND_START_S = 60
#: Commands that are not run from a document: the suite itself.
NOT_RUN = (re.compile(r"^python3 tasks\.py test\b"),)
#: Commands run once per session: the second document showing them reuses the first run.
ONCE = {"python3 tasks.py demo"}

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
        lines = self.text.splitlines()
        if self.language != "console":
            return lines
        kept: list[str] = []
        continuing = False
        for line in lines:
            if line.startswith("$ "):
                kept.append(line[2:])
                continuing = line.rstrip().endswith("\\")
            elif continuing:
                kept.append(line)
                continuing = line.rstrip().endswith("\\")
        return kept


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
        if language in SHELL_LANGUAGES:
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
    port: int = 0
    ran_once: set[str] = field(default_factory=set)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def enter(self, doc: Path) -> None:
        """Start a document: stop the last one's servers, restore meltano.yml, pick a port."""
        if doc == self.doc:
            return
        self.stop_background()
        self.doc = doc
        self.port = free_port()
        (self.root / "meltano.yml").write_text(self.localise(self.pristine_meltano_yml))

    def localise(self, text: str) -> str:
        """The documented port replaced by this document's port."""
        return re.sub(rf"\b{DOCUMENTED_PORT}\b", str(self.port), text)

    def script(self, block: Block) -> tuple[str, list[str]]:
        """The block as one bash script, and the commands left out (with why)."""
        kept: list[str] = []
        left_out: list[str] = []
        for line in block.commands():
            command = command_of(line)
            if any(rule.match(command) for rule in NOT_RUN):
                left_out.append(f"{command} (this is the test suite itself)")
                continue
            if command in ONCE:
                if command in self.ran_once:
                    left_out.append(f"{command} (already ran in this session)")
                    continue
                self.ran_once.add(command)
            kept.append(line)
        return self.localise("\n".join(kept)), left_out

    def run(self, block: Block, script: str) -> subprocess.CompletedProcess[str]:
        """Run a block's script to completion."""
        timeout = int(block.marker("docs-test: timeout") or DEFAULT_TIMEOUT_S)
        try:
            return subprocess.run(
                [BASH, "-e", "-o", "pipefail", "-c", script],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{block.id} did not finish within {timeout} s:\n{script}\n{exc.output}")

    def start(self, block: Block, script: str) -> str:
        """Start a server block in the background; return the URL it prints."""
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
        while time.monotonic() < deadline:
            found = URL.search(log.read_text(errors="replace"))
            if found:
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
    script, left_out = project.script(block)
    if not script.strip():
        pytest.skip(f"nothing left to run in {block.id}: " + "; ".join(left_out))
    if block.marker("docs-test: background") is not None:
        assert project.start(block, script).startswith("http://127.0.0.1:")
        return
    result = project.run(block, script)
    output = (result.stdout + result.stderr).replace(tasks.DEMO_CLIENT_SECRET, "***")
    if block.marker("docs-test: fails") is not None:
        assert result.returncode != 0, f"{block.id} should fail but exited 0:\n{output[-3000:]}"
    else:
        assert result.returncode == 0, (
            f"{block.id} exited {result.returncode}:\n$ {script}\n{output[-4000:]}"
        )
    for expected in block.all_markers("docs-test: expect"):
        assert re.search(expected, output), f"{block.id}: no match for {expected!r}:\n{output}"


#: Where the messages quoted in the docs come from: our packages, tasks.py, and the tools around.
MESSAGE_SOURCES = [
    *(ROOT / name for name in ("coupa_api", "tap_coupa", "target_coupa", "coupa_emulator")),
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


def test_a_block_fails_on_any_failing_command(tmp_path: Path) -> None:
    """The runner's guarantee: a failing line or pipeline stage fails the block."""
    runner = DocProject(tmp_path, dict(os.environ), "", tmp_path)
    doc = tmp_path / "doc.md"
    for text in ("false\ntrue", "false | cat", "echo ok"):
        block = Block(doc, 1, "bash", text, ())
        script, _ = runner.script(block)
        assert (runner.run(block, script).returncode == 0) == (text == "echo ok"), text
    console = Block(doc, 1, "console", "$ echo one \\\n  two\nnot a command\n$ true", ())
    assert console.commands() == ["echo one \\", "  two", "true"]
