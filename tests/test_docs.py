"""The documentation shows real runs: every ``$ cramprules ...`` in it is run
again, and its output must match what the page says.

A block of a Markdown page is checked when each of its commands starts with
``cramprules`` (optionally after environment assignments, or piped from
``printf``/``echo``/``cat``).  A block preceded by ``<!-- docs: no-check -->`` is
skipped; an expected output ending in a line ``...`` is compared up to there.
To refresh the pages after a deliberate change, run
``CRAMPRULES_UPDATE_DOCS=1 pytest tests/test_docs.py`` and review the diff.
Python examples (``>>>``) in the pages are run as doctests.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UPDATE = os.environ.get("CRAMPRULES_UPDATE_DOCS") == "1"
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUNNABLE = re.compile(
    r"^(?:[A-Z_]+=\S*\s+)*(?:(?:printf|echo|cat)\s.*\|\s*)?(?:[A-Z_]+=\S*\s+)*cramprules(\s|$)"
)
ELLIPSIS = "..."
WRITES = re.compile(r">|--output|\s-o\s")


def blocks(text: str) -> list[tuple[int, int, list[tuple[str, str]]]]:
    """(start, end, [(command, expected output)]) of each checkable block."""
    found = []
    for match in FENCE.finditer(text):
        body = match.group(1)
        if not body.startswith("$ "):
            continue
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        if "docs: no-check" in before:
            continue
        commands: list[tuple[str, str]] = []
        for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            commands.append((command, output))
        # Commands that write files are shown, not run.
        if all(RUNNABLE.match(c) and not WRITES.search(c) for c, _ in commands):
            found.append((match.start(1), match.end(1), commands))
    return found


def run(command: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1",
        "NO_COLOR": "1",
        "COLUMNS": "80",
    }
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return done.stdout


def matches(expected: str, actual: str) -> bool:
    want = expected.rstrip("\n").split("\n")
    got = actual.rstrip("\n").split("\n")
    if want and want[-1] == ELLIPSIS:
        return [line.rstrip() for line in got[: len(want) - 1]] == [line.rstrip() for line in want[:-1]]
    return [line.rstrip() for line in got] == [line.rstrip() for line in want]


def shortened(actual: str, *, like: str) -> str:
    """The new output, cut where the page cut the old one (at its ``...``)."""
    want = like.rstrip("\n").split("\n")
    if not want or want[-1] != ELLIPSIS:
        return actual
    kept = actual.rstrip("\n").split("\n")[: len(want) - 1]
    return "\n".join([*kept, ELLIPSIS]) + "\n"


CASES = [
    pytest.param(page, index, id=f"{page.name}#{index}")
    for page in PAGES
    for index in range(len(blocks(page.read_text(encoding="utf-8"))))
]


@pytest.mark.parametrize(("page", "index"), CASES)
def test_documented_commands_print_what_the_page_shows(page: Path, index: int) -> None:
    text = page.read_text(encoding="utf-8")
    start, end, commands = blocks(text)[index]
    rebuilt = []
    failures = []
    for command, expected in commands:
        actual = run(command)
        if not matches(expected, actual):
            failures.append(f"$ {command}\n--- the page says:\n{expected}--- it printed:\n{actual}")
        keep = expected if matches(expected, actual) else shortened(actual, like=expected)
        rebuilt.append(f"$ {command}\n{keep}")
    if failures and UPDATE:
        page.write_text(text[:start] + "".join(rebuilt) + text[end:], encoding="utf-8")
        return
    assert not failures, "\n".join(failures) + "\n(CRAMPRULES_UPDATE_DOCS=1 rewrites the page)"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_examples_in_the_docs_run(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    if ">>> " not in text:
        return
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing examples in {page.name}"
