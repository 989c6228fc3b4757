"""Gathers the statements of a ruleset from every file that makes it up.

A ruleset is its main file, the files it ``include``\\ s (which must stay
inside the ruleset's directory), the base ruleset it ``extends`` and the
fragments plugins add to it.  This module reads them all, in that order of
precedence, and says what is wrong with the way they are joined; it knows
nothing of what the statements mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import attrs

from cramprules import _files, nodes
from cramprules._resources import display_path
from cramprules.checker._sink import DiagnosticSink
from cramprules.exceptions import UnknownRuleset
from cramprules.limits import DEFAULT_LIMITS, Limits
from cramprules.names import closest

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "BaseResolver",
    "Extensions",
    "Gathered",
    "Opener",
    "SourceText",
    "default_name",
    "gather",
]

MAX_INCLUDE_DEPTH = DEFAULT_LIMITS.max_include_depth


@attrs.frozen
class SourceText:
    """Text to check, where it came from, and where its includes may come from.

    ``root`` is the directory that every include must stay inside; with no
    root, the text may not include files at all.  ``limits`` bound this text
    and everything it includes.
    """

    text: str
    origin: str
    path: Path | None = None
    root: Path | None = None
    limits: Limits = attrs.field(default=DEFAULT_LIMITS, kw_only=True)


BaseResolver = Callable[[str], Sequence[SourceText]]
"""Given a ruleset name, the texts that make it up (main file first).

Raises :class:`~cramprules.exceptions.UnknownRuleset` for a name it does not know."""


Extensions = Callable[[str], Sequence[SourceText]]
"""Given the ruleset's name, the plugin fragments that extend it."""

Opener = Callable[[Path, int], SourceText]
"""Reads an included file (a resolved path, at most so many bytes) into a :class:`SourceText`.

Raises ``OSError`` (``FileTooLarge`` past the limit) or ``NotText``.  The default
reads the disk; a ruleset rebuilt on another machine reads the texts it was sent."""


def read_file(path: Path, limit: int) -> SourceText:
    """The default :data:`Opener`: the file on disk, bounded, named as messages name it."""
    return SourceText(_files.read_text(path, limit), display_path(path), path=path)


Part = Literal["main", "included file", "base", "extension"]
"""The part a file plays; an included file plays its includer's part, except the main's."""


@attrs.frozen
class Gathered:
    """Every statement of a ruleset, with the files they came from."""

    name: str
    """The ruleset's name: its ``ruleset`` line's, or one made from the main file's name."""
    statements: tuple[nodes.Statement, ...]
    """The base's statements first, then the main file's (includes spliced in), then the extensions'."""
    texts: tuple[tuple[str, str], ...]
    """``(origin, text)`` of every file read, in the order read."""
    documents: tuple[nodes.Document, ...]


def gather(
    main: SourceText,
    extensions: Extensions | Sequence[SourceText],
    resolve_base: BaseResolver | None,
    sink: DiagnosticSink,
    opener: Opener = read_file,
) -> Gathered:
    """Read ``main``, its includes, its base and its extensions; problems go to ``sink``."""
    reader = _Reader(sink, opener)
    statements = reader.statements(main, kind="main")
    headers = [s for s in statements if isinstance(s, nodes.RulesetHeader)]
    name = headers[0].name if headers else default_name(main.origin)
    fragments = extensions(name) if callable(extensions) else extensions
    base: list[nodes.Statement] = []
    for statement in statements:
        if isinstance(statement, nodes.ExtendsDecl):
            base.extend(reader.base(statement, resolve_base, already=bool(base)))
    for fragment in fragments:
        statements.extend(reader.statements(fragment, kind="extension"))
    everything = tuple(s for s in base + statements if not isinstance(s, nodes.ExtendsDecl))
    rules = [s for s in everything if isinstance(s, nodes.Rule)]
    if len(rules) > main.limits.max_rules:
        sink.error(
            "too-many-rules",
            f"this ruleset has {len(rules):,} rules with its includes, base and extensions; "
            f"the limit is {main.limits.max_rules:,}",
            rules[main.limits.max_rules].span,
            hint="split the ruleset, or raise Limits.max_rules",
        )
    return Gathered(name, everything, tuple(reader.texts), tuple(reader.documents))


def _resolved(path: Path) -> Path | None:
    """``path`` with every symbolic link followed, or None for a loop of links.

    Python 3.13's non-strict ``resolve()`` no longer reports a loop, so the
    strict form is tried first; a file that does not exist is resolved as far
    as it goes (reading it names it as missing)."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        pass
    except (RuntimeError, OSError, ValueError):  # RuntimeError: a loop before 3.13; OSError: ELOOP
        return None
    try:
        return path.resolve()
    except (RuntimeError, OSError, ValueError):  # ValueError: a NUL
        return None


def default_name(origin: str) -> str:
    """The name of a ruleset that does not say its name: its file's, made an identifier."""
    stem = Path(origin).stem if not origin.startswith("<") else ""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem).strip("_")
    return cleaned or "ruleset"


class _Reader:
    """Reads files into statements, remembering each file read."""

    def __init__(self, sink: DiagnosticSink, opener: Opener = read_file) -> None:
        self.sink = sink
        self.opener = opener
        self.texts: list[tuple[str, str]] = []
        self.documents: list[nodes.Document] = []

    def statements(self, source: SourceText, *, kind: Part) -> list[nodes.Statement]:
        """The statements of a file that starts a part (main, base or extension)."""
        stack = (_resolved(source.path) or source.path,) if source.path else ()
        return self._gather(source, stack, kind=kind)

    def _read(self, source: SourceText) -> nodes.Document:
        from cramprules.parser import parse  # Lark loads only when a text is parsed, not for a cached ruleset

        document = parse(source.text, source.origin, source.limits)
        self.sink.read(source.origin, source.text)
        self.texts.append((source.origin, source.text))
        self.documents.append(document)
        return document

    def _gather(self, source: SourceText, stack: tuple[Path, ...], *, kind: Part) -> list[nodes.Statement]:
        """The statements of ``source`` with its includes spliced in place."""
        document = self._read(source)
        out: list[nodes.Statement] = []
        for statement in document.statements:
            if isinstance(statement, nodes.IncludeDecl):
                out.extend(self._include(statement, source, stack, kind=kind))
            elif isinstance(statement, nodes.ExtendsDecl):
                if kind != "main":
                    self.sink.error(
                        "misplaced-extends",
                        "only the main file of a ruleset can say 'extends'",
                        statement.span,
                        hint="move 'extends' to the file that names the ruleset",
                    )
                else:
                    out.append(statement)
            elif isinstance(statement, nodes.RulesetHeader) and kind != "main":
                if kind == "base":
                    continue  # the extending ruleset names the whole
                self.sink.error(
                    "misplaced-ruleset",
                    f"an {kind} cannot declare 'ruleset'; only the main file names the ruleset",
                    statement.span,
                    hint="remove the 'ruleset' line from this file",
                )
            else:
                out.append(statement)
        return out

    def _include(
        self,
        statement: nodes.IncludeDecl,
        parent: SourceText,
        stack: tuple[Path, ...],
        *,
        kind: Part,
    ) -> list[nodes.Statement]:
        child = self._included(statement, parent, stack)
        if child is None:
            return []
        assert child.path is not None
        return self._gather(child, (*stack, child.path), kind="included file" if kind == "main" else kind)

    def _included(
        self, statement: nodes.IncludeDecl, parent: SourceText, stack: tuple[Path, ...]
    ) -> SourceText | None:
        """The file ``statement`` includes, or None (with an error) if it cannot be."""
        span = statement.span
        error = self.sink.error
        if parent.root is None or parent.path is None:
            error(
                "include-unavailable",
                f"'{parent.origin}' has no location on disk, so it cannot include files",
                span,
                hint="load the ruleset from a file, or pass base_dir= to parse_ruleset()",
            )
            return None
        relative = Path(statement.path)
        if relative.is_absolute() or relative.suffix != ".cramp" or "\x00" in statement.path:
            error(
                "include-path",
                f"cannot include '{statement.path}': an include is a relative path to a .cramp file",
                span,
                hint='write for example include "causes/dehydration.cramp"',
            )
            return None
        target = _resolved(parent.path.parent / relative)
        root = _resolved(parent.root)
        if target is None or root is None:
            error(
                "include-unreadable",
                f"cannot include '{statement.path}': its symbolic links form a loop",
                span,
                hint="point the link at a real .cramp file",
            )
            return None
        if not target.is_relative_to(root):
            error(
                "include-outside",
                f"cannot include '{statement.path}': it lies outside the ruleset's directory {root}",
                span,
                hint="keep included files in the ruleset's directory or below it",
            )
            return None
        if target in stack:
            chain = " -> ".join(p.name for p in (*stack, target))
            error(
                "include-cycle",
                f"'{statement.path}' is already being included: {chain}",
                span,
                hint="remove one of the includes so that no file includes itself",
            )
            return None
        limits = parent.limits
        if len(stack) >= limits.max_include_depth:
            error(
                "include-depth",
                f"includes nest more than {limits.max_include_depth} deep",
                span,
                hint="include the files from fewer levels",
            )
            return None
        try:
            if target.exists() and not target.is_file():
                what = "a directory" if target.is_dir() else "not a regular file"
                error("include-unreadable", f"cannot include '{statement.path}': it is {what}", span)
                return None
            # Bounded before it is read: a link to /dev/zero must not fill memory.
            limit = limits.max_source_chars * 4  # UTF-8: at most four bytes a character
            opened = self.opener(target, limit)
        except _files.FileTooLarge:
            error(
                "too-large",
                f"cannot include '{statement.path}': it is larger than {limits.max_source_chars:,} characters",
                span,
                hint="split it into several files, or raise Limits.max_source_chars",
            )
            return None
        except FileNotFoundError:
            siblings = [p.name for p in target.parent.glob("*.cramp")] if target.parent.is_dir() else []
            guess = closest(target.name, siblings)
            error(
                "include-missing",
                f"cannot include '{statement.path}': no such file",
                span,
                hint=f"did you mean '{guess}'?" if guess else f"looked for {target}",
            )
            return None
        except (OSError, _files.NotText) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            error("include-unreadable", f"cannot read '{statement.path}': {reason}", span)
            return None
        return SourceText(opened.text, opened.origin, path=target, root=parent.root, limits=limits)

    def base(
        self, statement: nodes.ExtendsDecl, resolve_base: BaseResolver | None, *, already: bool
    ) -> list[nodes.Statement]:
        """The statements of the ruleset that ``statement`` extends (with its own extensions)."""
        if already:
            self.sink.error(
                "extends-twice",
                "a ruleset can extend only one other ruleset",
                statement.span,
                hint="remove the second 'extends'",
            )
            return []
        if resolve_base is None:
            self.sink.error(
                "unknown-ruleset",
                f"cannot extend '{statement.name}': no rulesets are available here",
                statement.span,
            )
            return []
        try:
            texts = resolve_base(statement.name)
        except UnknownRuleset as exc:
            guess = closest(statement.name, exc.known)
            self.sink.error(
                "unknown-ruleset",
                f"there is no ruleset named '{statement.name}' to extend",
                statement.span,
                hint=f"did you mean '{guess}'?"
                if guess
                else ("known rulesets: " + ", ".join(sorted(exc.known)) if exc.known else None),
            )
            return []
        out: list[nodes.Statement] = []
        for i, text in enumerate(texts):
            for item in self.statements(text, kind="base" if i == 0 else "extension"):
                if isinstance(item, nodes.ExtendsDecl):
                    self.sink.error(
                        "extends-chain",
                        f"'{statement.name}' itself extends another ruleset, which is not supported",
                        statement.span,
                    )
                    continue
                out.append(item)
        return out
