"""Every relative link in README.md and docs/*.md points to a file that exists, and an anchor
(`page.md#heading`) to a heading of that page, as GitHub renders it.

The README is short and sends readers to docs/ for everything else, so a page renamed or a
heading reworded must not leave a dead link behind.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
#: `[text](target)` and `![alt](target)`, target without spaces (an optional "title" after it).
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target><[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose_lines(doc: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced blocks."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            lines.append((number, line))
    return lines


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", title).replace("`", "").lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    """Every heading anchor of `doc`, with GitHub's `-1`, `-2` for repeated headings."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(doc):
        if heading := HEADING.match(line):
            base = slug(heading["title"])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(doc: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link in `doc` that is not an external URL."""
    return [
        (number, found["target"].strip("<>"))
        for number, line in prose_lines(doc)
        for found in LINK.finditer(INLINE_CODE.sub("", line))
        if not EXTERNAL.match(found["target"])
    ]


def broken(doc: Path, target: str) -> str | None:
    """Why `target` (as written in `doc`) does not resolve, or None when it does."""
    path, _, anchor = target.partition("#")
    resolved = (doc.parent / path).resolve() if path else doc
    if not resolved.exists():
        return f"{path} does not exist"
    if anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
        return f"{path or doc.name} has no heading #{anchor}"
    return None


def test_every_relative_link_resolves() -> None:
    problems = [
        f"{doc.relative_to(ROOT)}:{number}: ({target}) {why}"
        for doc in DOCUMENTS
        for number, target in relative_links(doc)
        if (why := broken(doc, target)) is not None
    ]
    assert problems == []


def test_the_link_checker_reads_headings_and_links_as_github_does(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Settings from the environment, `meltano config set` and `meltano.yml`\n"
        "## Fidelity choices (where the reference says INFERRED or is silent)\n"
        "## Notes\n## Notes\n"
        "```bash\n# not a heading\n```\n"
        "[a](page.md#notes-1) [b](#fidelity-choices-where-the-reference-says-inferred-or-is-silent)"
        " `[c](nowhere.md)` [d](https://example.com/x) [e](missing.md) [f](#not-a-heading)\n",
        encoding="utf-8",
    )
    assert anchors(page) == {
        "settings-from-the-environment-meltano-config-set-and-meltanoyml",
        "fidelity-choices-where-the-reference-says-inferred-or-is-silent",
        "notes",
        "notes-1",
    }
    targets = [target for _, target in relative_links(page)]
    assert targets == [
        "page.md#notes-1",
        "#fidelity-choices-where-the-reference-says-inferred-or-is-silent",
        "missing.md",
        "#not-a-heading",
    ]
    assert [t for t in targets if broken(page, t) is None] == targets[:2]
