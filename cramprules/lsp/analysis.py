"""What an editor asks about a ruleset, answered from the library: no LSP types here.

:func:`analyse` runs exactly what ``cramprules check`` runs on a file's
current text (the checker, then ``check``'s analyses, with its base when it
``extends`` one), and keeps the checked program, so hover, definition,
references, completion, tokens and quick fixes all answer from the names the
checker resolved.  The language server (:mod:`cramprules.lsp.server`) and the
playground (:mod:`cramprules.service.playground`) are thin layers over this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from cramprules import nodes
from cramprules._resources import data_dir
from cramprules.authoring.findings import CheckOptions
from cramprules.authoring.lint import check_ruleset
from cramprules.authoring.targets import Loader
from cramprules.exceptions import Diagnostic, RulesetError
from cramprules.model import Program
from cramprules.parser import comments, lex, parse, reserved_words
from cramprules.ruleset import Ruleset

if TYPE_CHECKING:
    from cramprules.engine import Engine

__all__ = [
    "KEYWORDS",
    "Analysis",
    "Completion",
    "Edit",
    "Fix",
    "Symbol",
    "SymbolKind",
    "Token",
    "TokenKind",
    "analyse",
    "completions",
    "diagnostics_by_origin",
    "fixes",
    "path_of",
    "symbols_of_document",
    "tokens",
    "word_at",
]

SymbolKind = Literal["fact", "option", "cause", "source", "rule", "group"]
TokenKind = Literal[
    "keyword", "string", "number", "comment", "operator", "function", "name",
    "fact", "option", "cause", "source", "rule", "group",
]  # fmt: skip

KEYWORDS: tuple[str, ...] = tuple(sorted(reserved_words() | {"and", "or", "not", "is", "in", "between"}))
"""Every word the grammar reserves, for completion and colouring."""

_STATEMENTS = ("ruleset", "source", "fact", "option", "group", "cause", "include", "extends", "rule")
_CONDITION_WORDS = ("and", "or", "not", "is", "in", "between", "known", "unknown", "then")
_RULE_CLAUSES = (
    "unless", "because", "detail", "cite", "overrides", "priority", "evidence", "reviewed", "status", "author",
)  # fmt: skip
_ACTIONS = ("recommend", "prefer", "avoid", "suspect", "refer")


@attrs.frozen
class Symbol:
    """A name the checked ruleset knows: where it is defined and what to say about it."""

    name: str
    kind: SymbolKind
    span: nodes.Span | None
    detail: str
    """Markdown: what hover shows."""
    inferred: bool = False


@attrs.frozen
class Token:
    """A coloured piece of text (1-based line and column, length in characters)."""

    line: int
    column: int
    length: int
    kind: TokenKind


@attrs.frozen
class Analysis:
    """One file checked as ``check`` checks it, and the names of the whole ruleset."""

    origin: str
    findings: tuple[Diagnostic, ...]
    loaded: bool
    symbols: Mapping[str, Symbol] = attrs.field(factory=dict)
    texts: tuple[tuple[str, str], ...] = ()
    """``(origin, text)`` of every file read: the main file, its includes, its base."""
    enums: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    inferred: tuple[Diagnostic, ...] = ()
    """The checker's notes on names inferred from use: ``check`` shows them only with --strict."""
    program: Program | None = attrs.field(default=None, eq=False, repr=False)
    ruleset: Ruleset | None = attrs.field(default=None, eq=False, repr=False)
    """The compiled ruleset, when the text loads."""

    def text_of(self, origin: str) -> str | None:
        return next((text for o, text in self.texts if o == origin), None)

    def word_at(self, origin: str, line: int, column: int) -> tuple[str, int] | None:
        """The name under a 1-based position in ``origin``, and the column it starts at."""
        text = self.text_of(origin)
        if text is None:
            return None
        return word_at(text, line, column)

    def symbol_at(self, origin: str, line: int, column: int) -> Symbol | None:
        found = self.word_at(origin, line, column)
        return self.symbols.get(found[0]) if found else None

    def references(self, name: str) -> list[nodes.Span]:
        """Every place ``name`` is written as a name, in every file of the ruleset."""
        out = []
        for origin, text in self.texts:
            for token in lex(text):
                if token.type == "NAME" and token.value == name:
                    line, column = token.line or 0, token.column or 0
                    out.append(nodes.Span(origin, line, column, line, column + len(name)))
        return out


def word_at(text: str, line: int, column: int) -> tuple[str, int] | None:
    """The name at a 1-based position of ``text`` (the cursor may be just after it), and where it starts."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    row = lines[line - 1]
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", row):
        if match.start() <= column - 1 <= match.end():
            return match.group(0), match.start() + 1
    return None


def path_of(origin: str, cwd: Path | None = None) -> Path | None:
    """The file an origin names: absolute, bundled (``rulesets/...``), or relative to ``cwd``."""
    if origin.startswith("<"):
        return None
    path = Path(origin)
    if path.is_absolute():
        return path
    if path.parts[:1] == ("rulesets",):
        try:
            bundled = data_dir("rulesets").joinpath(*path.parts[1:])
        except FileNotFoundError:  # pragma: no cover - a broken installation
            bundled = None
        if bundled is not None and bundled.is_file():
            return bundled
    return (cwd or Path.cwd()) / path


# ---------------------------------------------------------------- checking


def analyse(
    engine: Engine,
    text: str,
    origin: str,
    *,
    directory: Path | None = None,
    options: CheckOptions | None = None,
) -> Analysis:
    """Check ``text`` as ``cramprules check`` would check the file; ``directory`` lets it include.

    With no ``directory`` the text may not ``include`` (the checker says so).
    """
    loaded: list[Ruleset] = []

    def load() -> Ruleset:
        ruleset = engine.parse_ruleset(text, origin, base_dir=directory)
        loaded.append(ruleset)
        return ruleset

    base: Loader | None = None
    extends = _extends(text, origin)
    if extends is not None and extends in engine.ruleset_names():
        name = extends
        base = lambda: engine.ruleset(name)
    result = check_ruleset(load, origin, options or CheckOptions(), base=base)
    if not loaded:
        return Analysis(
            origin, result.findings, False, symbols=_declared(text, origin), texts=((origin, text),)
        )
    program = loaded[0].program
    return Analysis(
        origin,
        result.findings,
        True,
        symbols=_symbols(program),
        texts=program.texts,
        enums={n: f.values for n, f in program.facts.items() if f.kind == "enum"},
        inferred=tuple(d for d in program.diagnostics if d.code.startswith("inferred-")),
        program=program,
        ruleset=loaded[0],
    )


def _extends(text: str, origin: str) -> str | None:
    try:
        document = parse(text, origin)
    except RulesetError:
        return None
    return next((s.name for s in document.statements if isinstance(s, nodes.ExtendsDecl)), None)


def _symbols(program: Program) -> dict[str, Symbol]:
    out: dict[str, Symbol] = {}
    for name, source in program.sources.items():
        url = f"\n\n<{source.url}>" if source.url else ""
        out[name] = Symbol(name, "source", source.span, f"**source** `{name}`: {source.label}{url}")
    for name, fact in program.facts.items():
        lines = [f"**fact** `{name}`: {fact.describe_type()}"]
        if fact.question:
            lines.append(f"asks: *{fact.question}*")
        if fact.unit:
            lines.append(f"unit: {fact.unit}")
        if fact.derived:
            lines.append("derived: worked out by a plugin, not asked")
        if fact.inferred:
            lines.append("not declared: inferred from how the rules use it")
        out[name] = Symbol(name, "fact", fact.span, "\n\n".join(lines), fact.inferred)
    for name, option in program.options.items():
        group = f" (in group `{option.group}`)" if option.group else ""
        inferred = "\n\nnot declared: inferred from use" if option.inferred else ""
        out[name] = Symbol(
            name,
            "option",
            option.span,
            f"**option** `{name}`: {option.label}{group}{inferred}",
            option.inferred,
        )
    for name, cause in program.causes.items():
        cited = _cited(program, cause.sources)
        inferred = "\n\nnot declared: inferred from use" if cause.inferred else ""
        out[name] = Symbol(
            name, "cause", cause.span, f"**cause** `{name}`: {cause.label}{cited}{inferred}", cause.inferred
        )
    for name, label in program.groups.items():
        out.setdefault(name, Symbol(name, "group", None, f"**group** `{name}`: {label}"))
    for rule in (*program.rules, *program.excluded):
        if rule.anonymous:
            continue
        lines = [f"**rule** `{rule.name}`" + (f" (priority {rule.priority})" if rule.priority else "")]
        lines.append("then " + ", ".join(str(a) for a in rule.actions))
        if rule.because:
            lines.append(f"because: *{rule.because}*")
        cited = _cited(program, rule.sources)
        if cited:
            lines.append(cited.strip())
        if rule.evidence:
            lines.append(f"evidence: {rule.evidence}")
        if rule.status != "production":
            lines.append(f"status: {rule.status}")
        out[rule.name] = Symbol(rule.name, "rule", rule.span, "\n\n".join(lines))
    return out


def _declared(text: str, origin: str) -> dict[str, Symbol]:
    """The names one file declares, for a text that does not check (but parses): what its
    own statements say, no more (no includes, no base, no inferred names)."""
    try:
        document = parse(text, origin)
    except RulesetError:
        return {}
    out: dict[str, Symbol] = {}
    for statement in document.statements:
        if isinstance(statement, nodes.FactDecl):
            detail = f"**fact** `{statement.name}`" + (
                f": *{statement.question}*" if statement.question else ""
            )
            out[statement.name] = Symbol(statement.name, "fact", statement.span, detail)
        elif isinstance(statement, nodes.OptionDecl):
            detail = f"**option** `{statement.name}`" + (f": {statement.label}" if statement.label else "")
            out[statement.name] = Symbol(statement.name, "option", statement.span, detail)
        elif isinstance(statement, nodes.CauseDecl):
            detail = f"**cause** `{statement.name}`" + (f": {statement.label}" if statement.label else "")
            out[statement.name] = Symbol(statement.name, "cause", statement.span, detail)
        elif isinstance(statement, nodes.SourceDecl):
            out[statement.name] = Symbol(
                statement.name, "source", statement.span, f"**source** `{statement.name}`: {statement.label}"
            )
        elif isinstance(statement, nodes.Rule) and statement.name:
            detail = f"**rule** `{statement.name}`" + (
                f"\n\nbecause: *{statement.because}*" if statement.because else ""
            )
            out[statement.name] = Symbol(statement.name, "rule", statement.span, detail)
    return out


def _cited(program: Program, names: Sequence[str]) -> str:
    if not names:
        return ""
    shown = []
    for name in names:
        source = program.sources.get(name)
        shown.append(f"- `{name}`: {source.label}" if source else f"- `{name}`")
    return "\n\nsources:\n" + "\n".join(shown)


def symbols_of_document(text: str, origin: str) -> list[tuple[SymbolKind | str, str, nodes.Span]]:
    """The statements of one file that deserve an outline entry: ``(kind, name, whole statement)``.

    Nothing when the file does not parse.
    """
    try:
        document = parse(text, origin)
    except RulesetError:
        return []
    lines = text.splitlines()
    starts = [_start(s) for s in document.statements]
    out: list[tuple[SymbolKind | str, str, nodes.Span]] = []
    for i, statement in enumerate(document.statements):
        start = starts[i]
        if start is None:
            continue
        following = next((s.line for s in starts[i + 1 :] if s is not None), len(lines) + 1)
        end = following - 1
        while end > start.line and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        span = nodes.Span(origin, start.line, start.column, end, len(lines[end - 1]) + 1 if lines else 1)
        kind, name = _outline(statement)
        if name:
            out.append((kind, name, span))
    return out


def _start(statement: nodes.Statement) -> nodes.Span | None:
    layout = getattr(statement, "layout", None)
    if layout is not None:
        return layout.start  # type: ignore[no-any-return]
    return statement.span


def _outline(statement: nodes.Statement) -> tuple[str, str | None]:
    if isinstance(statement, nodes.FactDecl):
        return "fact", statement.name
    if isinstance(statement, nodes.OptionDecl):
        return "option", statement.name
    if isinstance(statement, nodes.CauseDecl):
        return "cause", statement.name
    if isinstance(statement, nodes.SourceDecl):
        return "source", statement.name
    if isinstance(statement, nodes.GroupDecl):
        return "group", statement.name
    if isinstance(statement, nodes.Rule):
        return "rule", statement.name or "(rule)"
    if isinstance(statement, nodes.RulesetHeader):
        return "ruleset", statement.name
    if isinstance(statement, nodes.Invariant):
        return "invariant", statement.label
    if isinstance(statement, nodes.Example):
        return "example", statement.label
    if isinstance(statement, nodes.IncludeDecl):
        return "include", statement.path
    return "extends", statement.name


# ---------------------------------------------------------------- colouring


def tokens(text: str, symbols: Mapping[str, Symbol]) -> list[Token]:
    """Every token of ``text`` with what it is, in order: keywords, names by kind, texts, comments.

    Uses the grammar's own lexer, so colours never disagree with the parser.
    A name is coloured by what the checked ruleset says it is.
    """
    out: list[Token] = []
    lexed = list(lex(text))
    for i, token in enumerate(lexed):
        value = str(token)
        line, column = token.line or 1, token.column or 1
        kind: TokenKind
        if token.type == "NAME":
            symbol = symbols.get(value)
            following = lexed[i + 1] if i + 1 < len(lexed) else None
            if symbol is not None:
                kind = symbol.kind
            elif following is not None and str(following) == "(":
                kind = "function"
            else:
                kind = "name"
        elif token.type == "STRING":
            kind = "string"
        elif token.type == "NUMBER" or value[:1].isdigit():
            kind = "number"
        elif value.isalpha():
            kind = "keyword"
        else:
            kind = "operator"
        for offset, piece in enumerate(value.split("\n")):  # a text may not span lines, but be safe
            if piece:
                out.append(Token(line + offset, column if offset == 0 else 1, len(piece), kind))
    for comment in comments(text):
        out.append(Token(comment.line, comment.column, len(comment.text), "comment"))
    out.sort(key=lambda t: (t.line, t.column))
    return out


# ---------------------------------------------------------------- completion


@attrs.frozen
class Completion:
    label: str
    kind: TokenKind
    detail: str = ""


def completions(text: str, line: int, column: int, analysis: Analysis | None) -> list[Completion]:
    """What may be written at a 1-based position, by the words before it."""
    lines = text.splitlines() or [""]
    row = lines[line - 1] if 1 <= line <= len(lines) else ""
    before = row[: column - 1]
    before = re.sub(r"[A-Za-z_][A-Za-z0-9_]*$", "", before)
    symbols = analysis.symbols if analysis else {}

    def named(*kinds: str) -> list[Completion]:
        return [
            Completion(s.name, s.kind, _first_line(s.detail)) for s in symbols.values() if s.kind in kinds
        ]

    def keywords(words: Sequence[str]) -> list[Completion]:
        return [Completion(w, "keyword") for w in words]

    previous = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[\[\],(]", before)
    last = previous[-1] if previous else None
    if not before.strip():
        if row[:1].isspace():
            # inside a rule's clauses, or a new statement
            return keywords(
                (*_STATEMENTS, "if", "then", *_RULE_CLAUSES, "invariant", "example", "given", "expect")
            )
        return keywords(_STATEMENTS)
    if last in ("recommend", "prefer", "avoid", "over"):
        return named("option")
    if last == "suspect":
        return named("cause")
    if last == "cite" or (last == "," and _clause(before) == "cite"):
        return named("source")
    if last == "overrides" or (last == "," and _clause(before) == "overrides"):
        return named("rule")
    if last == "in" and _clause(before) == "option":
        return named("group")
    if last in ("is", "[", ",") and analysis is not None:
        fact = _fact_before(before)
        if fact is not None and fact in analysis.enums:
            values = analysis.enums[fact]
            extra = () if last != "is" else ("known", "unknown", "not")
            return [Completion(v, "name", f"a value of {fact}") for v in values] + keywords(extra)
    if last in ("if", "and", "or", "not", "unless", "(", "expect", "given") or before.rstrip().endswith(":"):
        return named("fact", "cause") + keywords(("not", "any", "all") if last != "not" else ())
    if last == "then" or (last == "," and _clause(before) == "then"):
        return keywords(_ACTIONS)
    if last == "refer":
        return keywords(("doctor", "urgent"))
    return named("fact", "cause", "option", "source", "rule") + keywords(_CONDITION_WORDS + _RULE_CLAUSES)


def _first_line(markdown: str) -> str:
    return markdown.split("\n", 1)[0].replace("**", "").replace("`", "")


def _clause(before: str) -> str | None:
    """The last clause keyword before the cursor on this line."""
    found = re.findall(r"\b(cite|overrides|then|if|unless|option)\b", before)
    return found[-1] if found else None


def _fact_before(before: str) -> str | None:
    match = re.search(
        r"([A-Za-z_][A-Za-z0-9_]*)\s+(?:is(?:\s+not)?|(?:not\s+)?in\s*\[[^\]]*)\s*,?\s*$", before
    )
    return match.group(1) if match else None


# ---------------------------------------------------------------- quick fixes


@attrs.frozen
class Edit:
    """Replace from (line, column) to (end_line, end_column), 1-based, with ``text``."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@attrs.frozen
class Fix:
    title: str
    diagnostic: Diagnostic
    edit: Edit


_GUESS = re.compile(r"did you mean '([^']+)'")
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_DECLARE = {
    "inferred-fact": "fact",
    "inferred-option": "option",
    "inferred-cause": "cause",
}


def fixes(text: str, diagnostics: Sequence[Diagnostic]) -> list[Fix]:
    """Quick fixes for findings in ``text``: take the typo guard's suggestion, declare an inferred name."""
    out: list[Fix] = []
    lines = text.splitlines()
    for diagnostic in diagnostics:
        if diagnostic.line is None:
            continue
        if diagnostic.hint and (guess := _GUESS.search(diagnostic.hint)):
            named = _QUOTED.search(diagnostic.message)
            if named is not None:
                place = _find(lines, diagnostic, named.group(1))
                if place is not None:
                    line, column = place
                    edit = Edit(line, column, line, column + len(named.group(1)), guess.group(1))
                    out.append(Fix(f"Change '{named.group(1)}' to '{guess.group(1)}'", diagnostic, edit))
        kind = _DECLARE.get(diagnostic.code)
        if kind is not None:
            named = _QUOTED.search(diagnostic.message)
            if named is None:
                continue
            name = named.group(1)
            declaration = _declaration(kind, name, diagnostic.hint or "")
            line = _declaration_line(text, kind)
            out.append(
                Fix(
                    f"Declare {kind} '{name}'",
                    diagnostic,
                    Edit(line, 1, line, 1, declaration + "\n"),
                )
            )
    return out


def _find(lines: Sequence[str], diagnostic: Diagnostic, name: str) -> tuple[int, int] | None:
    """Where ``name`` is written at or after the diagnostic's column on its line."""
    assert diagnostic.line is not None
    if not 1 <= diagnostic.line <= len(lines):
        return None
    row = lines[diagnostic.line - 1]
    start = max((diagnostic.column or 1) - 1, 0)
    for match in re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", row):
        if match.start() >= start:
            return diagnostic.line, match.start() + 1
    return None


def _declaration(kind: str, name: str, hint: str) -> str:
    if kind == "fact":
        match = re.search(r"fact \S+: (.+)$", hint)
        declared = match.group(1) if match else "bool"
        question = _words(name)
        return f'fact {name}: {declared} "{question}?"'
    return f'{kind} {name} "{_words(name)}"'


def _declaration_line(text: str, kind: str) -> int:
    """Where a new declaration goes: after the last one of its kind, else after the header."""
    try:
        document = parse(text, "<fix>")
    except RulesetError:
        return 1
    classes: dict[str, type] = {"fact": nodes.FactDecl, "option": nodes.OptionDecl, "cause": nodes.CauseDecl}
    same = [s for s in document.statements if isinstance(s, classes[kind])]
    before = same or [
        s
        for s in document.statements
        if isinstance(s, (nodes.RulesetHeader, nodes.SourceDecl, nodes.IncludeDecl, nodes.ExtendsDecl))
    ]
    if not before:
        return 1
    outline = {span.line: span for _, _, span in symbols_of_document(text, "<fix>")}
    last = before[-1]
    start = _start(last)
    if start is None:
        return 1
    whole = outline.get(start.line)
    return (whole.end_line if whole else start.line) + 1


def diagnostics_by_origin(findings: Sequence[Diagnostic], main: str) -> dict[str, list[Diagnostic]]:
    """The findings grouped by file; those with no file belong to the main one."""
    out: dict[str, list[Diagnostic]] = {}
    for finding in findings:
        out.setdefault(finding.origin or main, []).append(finding)
    return out


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()
