"""The pytest plugin: every ``example`` in a ``.cramp`` file becomes a test item.

Installed with cramprules (entry point ``pytest11``, name ``cramprules``), so
``pytest`` run over a directory holding rulesets runs their examples beside
the project's own tests::

    $ pytest rulesets/
    rulesets/clinic.cramp ....F                                   [100%]

A ``.cramp`` file is collected when it, or a file it includes, holds
examples, and no other ``.cramp`` file includes it (an included file is part
of its ruleset; its examples run with the file that includes it).  A file
that ``extends`` a ruleset runs its own examples against the extended
ruleset, and not the base's.  A ruleset that does not load is a collection
error showing every problem.

Turn collection off with the ini option ``cramprules_collect = false``.
Plugins load as ``cramprules`` would load them (installed ones too, unless
``CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD`` is set).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any as AnyType

import pytest

from cramprules import nodes

__all__ = ["CrampFile", "ExampleFailed", "ExampleItem"]

_EXAMPLE = re.compile(r'^\s*example\s+"', re.MULTILINE)
_ENGINE = pytest.StashKey[AnyType]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "cramprules_collect",
        type="bool",
        default=True,
        help="collect the examples of .cramp files as test items (cramprules)",
    )


def _has_examples(path: Path, seen: frozenset[Path] = frozenset()) -> bool:
    """Whether the file or a file it includes holds an example (a broken file that
    seems to hold one counts, so that its errors are shown)."""
    from cramprules.exceptions import RulesetError
    from cramprules.parser import parse

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        document = parse(text, str(path))
    except RulesetError:
        return bool(_EXAMPLE.search(text))
    for statement in document.statements:
        if isinstance(statement, nodes.Example):
            return True
    for statement in document.statements:
        if isinstance(statement, nodes.IncludeDecl):
            child = (path.parent / statement.path).resolve()
            if child not in seen and _has_examples(child, seen | {child}):
                return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CrampFile | None:
    if file_path.suffix != ".cramp" or not parent.config.getini("cramprules_collect"):
        return None
    from cramprules.authoring.targets import included_elsewhere

    if not _has_examples(file_path) or included_elsewhere(file_path, parent.config.rootpath):
        return None
    return CrampFile.from_parent(parent, path=file_path)


def _engine(config: pytest.Config) -> AnyType:
    if _ENGINE not in config.stash:
        from cramprules.engine import Engine

        config.stash[_ENGINE] = Engine()
    return config.stash[_ENGINE]


class CrampFile(pytest.File):
    """A ruleset file: one item per example."""

    def collect(self) -> Iterator[ExampleItem]:
        from cramprules.authoring.examples import own_examples
        from cramprules.authoring.targets import loaders

        engine = _engine(self.config)
        load, base, _ = loaders(engine, str(self.path))
        ruleset = load()
        base_ruleset = base() if base is not None else None
        names: set[str] = set()
        for example in own_examples(ruleset, base_ruleset):
            name = example.label.replace("::", ": ")
            while name in names:  # examples of included files may share a label
                name += " (again)"
            names.add(name)
            yield ExampleItem.from_parent(self, name=name, ruleset=ruleset, example=example)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> AnyType:  # type: ignore[override]
        from cramprules.exceptions import CramprulesError

        if isinstance(excinfo.value, CramprulesError):
            return f"{self.path.name} does not load:\n{excinfo.value}"
        return super().repr_failure(excinfo)


class ExampleFailed(Exception):
    """An example whose expectations did not hold; carries the result to show."""

    def __init__(self, result: AnyType) -> None:
        super().__init__(result.describe())
        self.result = result


class ExampleItem(pytest.Item):
    """One ``example`` of a ruleset."""

    def __init__(self, *, ruleset: AnyType, example: nodes.Example, **kwargs: AnyType) -> None:
        super().__init__(**kwargs)
        self.ruleset = ruleset
        self.example = example

    def runtest(self) -> None:
        from cramprules.authoring.examples import run_example

        result = run_example(self.ruleset, self.example)
        if not result.passed:
            raise ExampleFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: AnyType = None) -> AnyType:
        if isinstance(excinfo.value, ExampleFailed):
            return excinfo.value.result.describe()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        span = self.example.span
        path = Path(span.origin) if span is not None and not span.origin.startswith("<") else self.path
        line = span.line - 1 if span is not None else None
        return path, line, f"example: {self.example.label}"
