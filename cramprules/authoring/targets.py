"""Finding rulesets: the ``.cramp`` files under a path, what includes what,
and how to load what the command line names (a path or a ruleset's name).

``check``, ``test`` and the pytest plugin share these, so they agree on which
files are rulesets and which are only included by others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cramprules import _files, nodes
from cramprules.exceptions import RulesetError
from cramprules.limits import DEFAULT_LIMITS
from cramprules.parser import parse
from cramprules.ruleset import Ruleset

if TYPE_CHECKING:
    from cramprules.engine import Engine

__all__ = ["Loader", "extends_of", "find_rulesets", "included_elsewhere", "includer_of", "loaders"]


def _read(path: Path) -> str:
    """A ruleset file's text, bounded before it is read (a link to /dev/zero must not hang)."""
    return _files.read_text(path, DEFAULT_LIMITS.max_source_chars * 4)


def _includes(path: Path) -> set[Path]:
    """The files ``path`` includes directly (none if it does not parse)."""
    try:
        document = parse(_read(path), str(path))
    except (RulesetError, OSError, ValueError, RuntimeError):
        return set()
    return {(path.parent / s.path).resolve() for s in document.statements if isinstance(s, nodes.IncludeDecl)}


def find_rulesets(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.cramp`` files named, or found under directories, less those another one includes.

    An included file is a part of its ruleset, not a ruleset: its examples
    run with the file that includes it.
    """
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.cramp") if p.is_file()))
        else:
            found.append(path)
    found = list(dict.fromkeys(found))
    included: set[Path] = set()
    for path in found:
        if path.is_file():
            included |= _includes(path)
    return [p for p in found if p.resolve() not in included]


def included_elsewhere(path: Path, root: Path | None = None) -> bool:
    """Whether a ``.cramp`` file in ``path``'s directory or above (up to ``root``) includes it."""
    return includer_of(path, root) is not None


def includer_of(path: Path, root: Path | None = None) -> Path | None:
    """The ``.cramp`` file in ``path``'s directory or above (up to ``root``) that includes it, if any."""
    target = path.resolve()
    directory = target.parent
    stop = root.resolve() if root is not None else None
    for _ in range(16):
        for candidate in sorted(directory.glob("*.cramp")):
            if candidate.resolve() != target and target in _includes(candidate):
                return candidate
        if directory == stop or directory.parent == directory:
            break
        directory = directory.parent
    return None


def extends_of(path: Path) -> str | None:
    """The name of the ruleset a file ``extends``, if it parses (errors are reported when it loads)."""
    try:
        document = parse(_read(path), str(path))
    except (RulesetError, OSError, ValueError, RuntimeError):
        return None
    for statement in document.statements:
        if isinstance(statement, nodes.ExtendsDecl):
            return statement.name
    return None


Loader = Callable[[], Ruleset]


def loaders(
    engine: Engine, target: str | None, *, include_testing: bool = False
) -> tuple[Loader, Loader | None, str]:
    """How to load what the command line names (a path, a ruleset name, or None for the
    default), how to load its base if it ``extends`` one, and what to call it."""
    if target is None:
        return _named(engine, "leg_cramps", include_testing), None, "leg_cramps"
    path = Path(target)
    base: Loader | None = None
    if path.is_file() or path.suffix == ".cramp":
        name = extends_of(path) if path.is_file() else None
        if name is not None:
            base = _named(engine, name, include_testing)
        return (lambda: engine.load_ruleset(path, include_testing=include_testing)), base, target
    return _named(engine, target, include_testing), None, target


def _named(engine: Engine, name: str, include_testing: bool) -> Loader:
    return lambda: engine.ruleset(name, include_testing=include_testing)
