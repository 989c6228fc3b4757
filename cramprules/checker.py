"""Resolves names and checks a ruleset, producing a :class:`~cramprules.model.Program`.

This is where the language's promises are kept: undeclared names are
inferred from use, but a name one or two edits from a declared one is an
error that suggests it; includes stay inside the ruleset's directory;
``extends`` brings in a base ruleset; rules are ordered so that causes are
concluded before they are tested, and a cycle is an error.  Every problem is
collected, so an author sees them all at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

import attrs

from cramprules import nodes
from cramprules._resources import display_path
from cramprules.exceptions import Diagnostic, RulesetError, RulesetSyntaxError, Severity
from cramprules.model import CauseSpec, FactSpec, OptionSpec, Program, RuleSpec, SourceSpec
from cramprules.names import NameIndex, closest, is_probable_typo
from cramprules.parser import parse

__all__ = ["MAX_INCLUDE_DEPTH", "STATUSES", "SourceText", "check", "specificity"]

MAX_INCLUDE_DEPTH = 16
STATUSES = ("production", "testing", "retired")


@attrs.frozen
class SourceText:
    """Text to check, where it came from, and where its includes may come from.

    ``root`` is the directory that every include must stay inside; with no
    root, the text may not include files at all.
    """

    text: str
    origin: str
    path: Path | None = None
    root: Path | None = None


BaseResolver = Callable[[str], Sequence[SourceText]]
"""Given a ruleset name, the texts that make it up (main file first)."""


Extensions = Callable[[str], Sequence[SourceText]]
"""Given the ruleset's name, the plugin fragments that extend it."""


def check(
    main: SourceText,
    *,
    extensions: Extensions | Sequence[SourceText] = (),
    resolve_base: BaseResolver | None = None,
    functions: Collection[str] = (),
    include_testing: bool = False,
) -> Program:
    """Check ``main`` with its includes, its base and the plugin ``extensions``."""
    return _Checker(resolve_base, functions, include_testing).run(main, extensions)


def specificity(condition: nodes.Condition) -> int:
    """How many tests must hold for a condition to be true: the tie-breaker
    between competing rules.  ``a and b`` makes two; ``a or b`` only one."""
    if isinstance(condition, nodes.All):
        return sum(specificity(c) for c in condition.operands)
    if isinstance(condition, nodes.Any):
        return min(specificity(c) for c in condition.operands)
    return 1


def _words(name: str) -> str:
    return name.replace("_", " ")


class _Inferred:
    """What the uses of an undeclared fact say about its type."""

    def __init__(self, kind: str, span: nodes.Span | None) -> None:
        self.kind = kind
        self.values: list[str] = []
        self.span = span


class _Checker:
    def __init__(
        self,
        resolve_base: BaseResolver | None,
        functions: Collection[str],
        include_testing: bool,
    ) -> None:
        self.resolve_base = resolve_base
        self.functions = set(functions)
        self.include_testing = include_testing
        self.problems: list[Diagnostic] = []
        self.lines: dict[str, list[str]] = {}
        self.texts: list[tuple[str, str]] = []
        self.documents: list[nodes.Document] = []
        self.header: nodes.RulesetHeader | None = None
        self.main_origin = ""
        # declarations
        self.facts: dict[str, FactSpec] = {}
        self.options: dict[str, OptionSpec] = {}
        self.causes: dict[str, CauseSpec] = {}
        self.sources: dict[str, SourceSpec] = {}
        self.groups: dict[str, str] = {}
        # inference
        self.inferred: dict[str, _Inferred] = {}
        self.inferred_options: dict[str, nodes.Span | None] = {}
        self.inferred_causes: dict[str, nodes.Span | None] = {}
        self.concluded: set[str] = set()
        self.used_functions: set[str] = set()
        self.infer = True
        self._indexes: dict[tuple[int, int], NameIndex] = {}
        self._names: NameIndex | None = None
        """Declared facts and causes, and concluded causes: the typo guard's reference."""

    # ------------------------------------------------------------ reporting

    def error(
        self,
        code: str,
        message: str,
        span: nodes.Span | None,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.problems.append(
            Diagnostic.at(code, severity, message, span, self.lines, origin=self.main_origin, hint=hint)
        )

    def note(self, code: str, message: str, span: nodes.Span | None, hint: str | None = None) -> None:
        self.error(code, message, span, hint, severity="info")

    # ------------------------------------------------------------ reading files

    def _read(self, source: SourceText) -> nodes.Document:
        document = parse(source.text, source.origin)
        self.lines[source.origin] = source.text.splitlines()
        self.texts.append((source.origin, source.text))
        self.documents.append(document)
        return document

    def _gather(
        self, source: SourceText, stack: tuple[Path, ...], *, kind: str
    ) -> list[tuple[nodes.Statement, SourceText]]:
        """The statements of ``source`` with its includes spliced in place."""
        document = self._read(source)
        out: list[tuple[nodes.Statement, SourceText]] = []
        for statement in document.statements:
            if isinstance(statement, nodes.IncludeDecl):
                out.extend(self._include(statement, source, stack, kind=kind))
            elif isinstance(statement, nodes.ExtendsDecl):
                if kind != "main":
                    self.error(
                        "misplaced-extends",
                        "only the main file of a ruleset can say 'extends'",
                        statement.span,
                        hint="move 'extends' to the file that names the ruleset",
                    )
                else:
                    out.append((statement, source))
            elif isinstance(statement, nodes.RulesetHeader) and kind != "main":
                if kind == "base":
                    continue  # the extending ruleset names the whole
                self.error(
                    "misplaced-ruleset",
                    f"an {kind} cannot declare 'ruleset'; only the main file names the ruleset",
                    statement.span,
                    hint="remove the 'ruleset' line from this file",
                )
            else:
                out.append((statement, source))
        return out

    def _include(
        self,
        statement: nodes.IncludeDecl,
        parent: SourceText,
        stack: tuple[Path, ...],
        *,
        kind: str,
    ) -> list[tuple[nodes.Statement, SourceText]]:
        span = statement.span
        if parent.root is None or parent.path is None:
            self.error(
                "include-unavailable",
                f"'{parent.origin}' has no location on disk, so it cannot include files",
                span,
                hint="load the ruleset from a file, or pass base_dir= to parse_ruleset()",
            )
            return []
        relative = Path(statement.path)
        if relative.is_absolute() or relative.suffix != ".cramp":
            self.error(
                "include-path",
                f"cannot include '{statement.path}': an include is a relative path to a .cramp file",
                span,
                hint='write for example include "causes/dehydration.cramp"',
            )
            return []
        target = (parent.path.parent / relative).resolve()
        root = parent.root.resolve()
        if not target.is_relative_to(root):
            self.error(
                "include-outside",
                f"cannot include '{statement.path}': it lies outside the ruleset's directory {root}",
                span,
                hint="keep included files in the ruleset's directory or below it",
            )
            return []
        if target in stack:
            chain = " -> ".join(p.name for p in (*stack, target))
            self.error(
                "include-cycle",
                f"'{statement.path}' is already being included: {chain}",
                span,
                hint="remove one of the includes so that no file includes itself",
            )
            return []
        if len(stack) >= MAX_INCLUDE_DEPTH:
            self.error(
                "include-depth",
                f"includes nest more than {MAX_INCLUDE_DEPTH} deep",
                span,
                hint="include the files from fewer levels",
            )
            return []
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            siblings = [p.name for p in target.parent.glob("*.cramp")] if target.parent.is_dir() else []
            guess = closest(target.name, siblings)
            self.error(
                "include-missing",
                f"cannot include '{statement.path}': no such file",
                span,
                hint=f"did you mean '{guess}'?" if guess else f"looked for {target}",
            )
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self.error("include-unreadable", f"cannot read '{statement.path}': {exc}", span)
            return []
        origin = display_path(target)
        child = SourceText(text, origin, path=target, root=parent.root)
        return self._gather(child, (*stack, target), kind="included file" if kind == "main" else kind)

    # ------------------------------------------------------------ the run

    def run(self, main: SourceText, extensions: Extensions | Sequence[SourceText]) -> Program:
        self.main_origin = main.origin
        stack = (main.path.resolve(),) if main.path else ()
        statements = self._gather(main, stack, kind="main")
        headers = [s for s, _ in statements if isinstance(s, nodes.RulesetHeader)]
        name = headers[0].name if headers else _default_name(main.origin)
        fragments = extensions(name) if callable(extensions) else extensions
        base: list[tuple[nodes.Statement, SourceText]] = []
        for statement, _ in statements:
            if isinstance(statement, nodes.ExtendsDecl):
                base.extend(self._extends(statement, base))
        for fragment in fragments:
            frag_stack = (fragment.path.resolve(),) if fragment.path else ()
            statements.extend(self._gather(fragment, frag_stack, kind="extension"))
        everything = [s for s, _ in base + statements if not isinstance(s, nodes.ExtendsDecl)]
        self._declare(everything)
        rules = self._rules(everything)
        active = tuple(r for r in rules if self._is_active(r))
        excluded = tuple(r for r in rules if not self._is_active(r))
        self._check_overrides(rules)
        order = self._order(active)
        invariants = self._invariants(everything)
        examples = self._examples(everything)
        self._unused_checks()
        errors = [d for d in self.problems if d.severity == "error"]
        if errors:
            if all(d.code == "syntax" for d in errors):
                raise RulesetSyntaxError(errors)
            raise RulesetError(errors)
        header = self.header or nodes.RulesetHeader(name=_default_name(main.origin))
        facts = dict(self.facts)
        for name, inferred in self.inferred.items():
            facts[name] = FactSpec(
                name,
                inferred.kind,  # type: ignore[arg-type]
                values=tuple(inferred.values),
                inferred=True,
                span=inferred.span,
            )
        options = dict(self.options)
        for name, span in self.inferred_options.items():
            options[name] = OptionSpec(name, _words(name), inferred=True, span=span)
        causes = dict(self.causes)
        for name, span in self.inferred_causes.items():
            causes[name] = CauseSpec(name, _words(name), inferred=True, span=span)
        return Program(
            name=header.name,
            title=header.title,
            version=header.version,
            author=header.author,
            reviewed=header.reviewed,
            status=header.status or "production",
            facts=facts,
            options=options,
            causes=causes,
            sources=dict(self.sources),
            groups=dict(self.groups),
            rules=active,
            excluded=excluded,
            order=order,
            functions=tuple(sorted(self.used_functions)),
            invariants=invariants,
            examples=examples,
            texts=tuple(self.texts),
            diagnostics=tuple(self.problems),
            documents=tuple(self.documents),
        )

    def _extends(
        self, statement: nodes.ExtendsDecl, already: list[tuple[nodes.Statement, SourceText]]
    ) -> list[tuple[nodes.Statement, SourceText]]:
        if already:
            self.error(
                "extends-twice",
                "a ruleset can extend only one other ruleset",
                statement.span,
                hint="remove the second 'extends'",
            )
            return []
        texts: Sequence[SourceText] | None = None
        if self.resolve_base is not None:
            try:
                texts = self.resolve_base(statement.name)
            except KeyError as exc:
                known = list(exc.args[1]) if len(exc.args) > 1 else []
                guess = closest(statement.name, known)
                self.error(
                    "unknown-ruleset",
                    f"there is no ruleset named '{statement.name}' to extend",
                    statement.span,
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else ("known rulesets: " + ", ".join(sorted(known)) if known else None),
                )
                return []
        if texts is None:
            self.error(
                "unknown-ruleset",
                f"cannot extend '{statement.name}': no rulesets are available here",
                statement.span,
            )
            return []
        out: list[tuple[nodes.Statement, SourceText]] = []
        for i, text in enumerate(texts):
            stack = (text.path.resolve(),) if text.path else ()
            for item in self._gather(text, stack, kind="base" if i == 0 else "extension"):
                if isinstance(item[0], nodes.ExtendsDecl):
                    self.error(
                        "extends-chain",
                        f"'{statement.name}' itself extends another ruleset, which is not supported",
                        statement.span,
                    )
                    continue
                out.append(item)
        return out

    # ------------------------------------------------------------ declarations

    def _declare(self, statements: Iterable[nodes.Statement]) -> None:
        seen: dict[str, tuple[str, nodes.Span | None]] = {}

        def claim(name: str, kind: str, span: nodes.Span | None, namespace: str) -> bool:
            key = f"{namespace}:{name}"
            if key in seen:
                first_kind, first = seen[key]
                where = f" at {first}" if first else ""
                self.error(
                    "duplicate-name",
                    f"'{name}' is already declared as a {first_kind}{where}",
                    span,
                    hint="rename one of them, or remove the second declaration",
                )
                return False
            seen[key] = (kind, span)
            return True

        for statement in statements:
            if isinstance(statement, nodes.RulesetHeader):
                if self.header is not None:
                    self.error(
                        "duplicate-ruleset",
                        "this file already names its ruleset",
                        statement.span,
                        hint="keep one 'ruleset' line",
                    )
                    continue
                self.header = statement
                if statement.status is not None and statement.status not in STATUSES:
                    self._bad_status(statement.status, statement.span)
            elif isinstance(statement, nodes.SourceDecl):
                if claim(statement.name, "source", statement.span, "source"):
                    self.sources[statement.name] = SourceSpec(
                        statement.name, statement.label, statement.url, span=statement.span
                    )
            elif isinstance(statement, nodes.FactDecl):
                if claim(statement.name, "fact", statement.span, "value"):
                    self._declare_fact(statement)
            elif isinstance(statement, nodes.GroupDecl):
                if claim(statement.name, "group", statement.span, "group"):
                    self.groups[statement.name] = statement.label
            elif isinstance(statement, nodes.OptionDecl):
                if claim(statement.name, "option", statement.span, "option"):
                    self.options[statement.name] = OptionSpec(
                        statement.name,
                        statement.label or _words(statement.name),
                        statement.group,
                        span=statement.span,
                    )
            elif isinstance(statement, nodes.CauseDecl):
                if claim(statement.name, "cause", statement.span, "value"):
                    self.causes[statement.name] = CauseSpec(
                        statement.name,
                        statement.label or _words(statement.name),
                        statement.sources,
                        span=statement.span,
                    )
        for cause in self.causes.values():
            self._check_sources(cause.sources, cause.span)
        for option in self.options.values():
            if option.group is not None and option.group not in self.groups:
                guess = closest(option.group, self.groups)
                self.error(
                    "unknown-group",
                    f"option '{option.name}' is in group '{option.group}', which is not declared",
                    option.span,
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else f'declare it: group {option.group} "Its heading"',
                )

    def _declare_fact(self, decl: nodes.FactDecl) -> None:
        spec: FactSpec
        if isinstance(decl.type, nodes.BoolType):
            spec = FactSpec(
                decl.name, "bool", decl.question, unit=decl.unit, derived=decl.derived, span=decl.span
            )
        elif isinstance(decl.type, nodes.NumberType):
            low, high = decl.type.low, decl.type.high
            if low is not None and high is not None and low > high:
                self.error(
                    "bad-range",
                    f"the range {low}..{high} of '{decl.name}' is empty",
                    decl.span,
                    hint=f"write the smaller bound first: {high}..{low}",
                )
            spec = FactSpec(
                decl.name,
                "number",
                decl.question,
                low,
                high,
                unit=decl.unit,
                derived=decl.derived,
                span=decl.span,
            )
        else:
            values = decl.type.values
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                self.error(
                    "duplicate-value",
                    f"'{decl.name}' lists {', '.join(duplicates)} more than once",
                    decl.span,
                )
            spec = FactSpec(
                decl.name,
                "enum",
                decl.question,
                values=tuple(dict.fromkeys(values)),
                unit=decl.unit,
                derived=decl.derived,
                span=decl.span,
            )
        self.facts[decl.name] = spec

    def _check_sources(self, sources: Iterable[str], span: nodes.Span | None) -> None:
        for source in sources:
            if source not in self.sources:
                guess = closest(source, self.sources)
                self.error(
                    "unknown-source",
                    f"'{source}' is not a declared source",
                    span,
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else f'declare it: source {source} "Who or what it is"',
                )

    def _bad_status(self, status: str, span: nodes.Span | None) -> None:
        guess = closest(status, STATUSES)
        self.error(
            "unknown-status",
            f"'{status}' is not a status; a status is production, testing or retired",
            span,
            hint=f"did you mean '{guess}'?" if guess else None,
        )

    # ------------------------------------------------------------ rules

    def _is_active(self, rule: RuleSpec) -> bool:
        if rule.status == "retired":
            return False
        return rule.status != "testing" or self.include_testing

    def _rules(self, statements: Sequence[nodes.Statement]) -> list[RuleSpec]:
        rules = [s for s in statements if isinstance(s, nodes.Rule)]
        # Causes first: a name is a cause if a rule suspects it, wherever it is.
        for rule in rules:
            for action in rule.actions:
                if action.kind == "suspect":
                    self._conclude(action)
        out: list[RuleSpec] = []
        names: dict[str, nodes.Span | None] = {}
        for rule in rules:
            spec = self._rule(rule)
            if spec is None:
                continue
            if spec.name in names:
                first = names[spec.name]
                self.error(
                    "duplicate-rule",
                    f"there is already a rule named '{spec.name}'" + (f" at {first}" if first else ""),
                    rule.span,
                    hint="give each rule its own name",
                )
                continue
            names[spec.name] = rule.span
            out.append(spec)
        return out

    def _conclude(self, action: nodes.Action) -> None:
        name = action.target
        if name in self.causes or name in self.inferred_causes:
            self.concluded.add(name)
            return
        if name in self.facts:
            self.error(
                "not-a-cause",
                f"'{name}' is declared as a fact, so rules cannot suspect it",
                action.span,
                hint=f'declare a cause with its own name: cause {name}_cause "..."',
            )
            return
        guess = self._typo(name, self.causes)
        if guess:
            self.error(
                "typo-name",
                f"'{name}' is not declared, and it is close to the cause '{guess}'",
                action.span,
                hint=f"did you mean '{guess}'? If '{name}' is a new cause, declare it: cause {name} \"...\"",
            )
            return
        self.concluded.add(name)
        self.inferred_causes.setdefault(name, action.span)
        self.note(
            "inferred-cause",
            f"'{name}' is not declared; it is taken to be a cause",
            action.span,
            hint=f'declare it to give it a label and sources: cause {name} "..." cite ...',
        )

    def _typo(self, name: str, declared: Iterable[str]) -> str | None:
        if isinstance(declared, dict) and len(declared) > 50:
            # Large rulesets: an index instead of comparing with every name.
            key = id(declared), len(declared)
            index = self._indexes.get(key)
            if index is None:
                index = self._indexes[key] = NameIndex(declared)
            return index.typo_of(name)
        best = None
        for known in declared:
            if is_probable_typo(name, known):
                if best is None or len(known) < len(best):
                    best = known
        return best

    def _rule(self, rule: nodes.Rule) -> RuleSpec | None:
        span = rule.span
        anonymous = rule.name is None
        if rule.name is None:
            origin = span.origin if span else self.main_origin
            line = span.line if span else 0
            if origin == self.main_origin:
                name = f"rule@{line}"
            else:
                name = f"rule@{Path(origin).stem}:{line}"
        else:
            name = rule.name
        status = rule.status or "production"
        if status not in STATUSES:
            self._bad_status(status, span)
        condition = self._condition(rule.condition)
        unless = self._condition(rule.unless) if rule.unless is not None else None
        actions = tuple(self._action(a) for a in rule.actions)
        self._check_sources(rule.sources, span)
        targets: dict[str, str] = {}
        for action in actions:
            if action.kind in ("recommend", "prefer", "avoid"):
                previous = targets.get(action.target)
                if previous is not None and (previous == "avoid") != (action.kind == "avoid"):
                    self.error(
                        "self-contradiction",
                        f"this rule both says '{previous} {action.target}' and '{action.kind} {action.target}'",
                        action.span or span,
                        hint="split it into two rules with different conditions",
                    )
                targets[action.target] = action.kind
        if unless is not None and any(a.kind == "refer" and a.urgent for a in actions):
            self.error(
                "urgent-unless",
                "an urgent referral cannot have an 'unless': nothing may defeat it",
                rule.unless.span if rule.unless is not None else span,
                hint="move the urgent referral into a rule of its own without 'unless'",
            )
        return RuleSpec(
            name=name,
            anonymous=anonymous,
            condition=condition,
            actions=actions,
            unless=unless,
            because=rule.because,
            detail=rule.detail,
            sources=rule.sources,
            overrides=rule.overrides,
            priority=rule.priority,
            evidence=rule.evidence,
            reviewed=rule.reviewed,
            status=status,
            author=rule.author,
            specificity=specificity(condition),
            span=span,
        )

    def _action(self, action: nodes.Action) -> nodes.Action:
        if action.kind in ("recommend", "prefer", "avoid"):
            self._option(action.target, action.span)
            for other in action.over:
                self._option(other, action.span)
                if other == action.target:
                    self.error(
                        "prefer-over-itself",
                        f"'prefer {other} over {other}' compares an option with itself",
                        action.span,
                    )
        elif action.kind == "suspect":
            pass  # resolved in _conclude, before any condition is read
        return action

    def _option(self, name: str, span: nodes.Span | None) -> None:
        if name in self.options or name in self.inferred_options:
            return
        if name in self.facts or name in self.causes or name in self.concluded:
            kind = "fact" if name in self.facts else "cause"
            self.error(
                "not-an-option",
                f"'{name}' is a {kind}, not an option",
                span,
                hint=f'recommend, prefer and avoid name options; declare one: option {name}_option "..."',
            )
            return
        guess = self._typo(name, self.options)
        if guess:
            self.error(
                "typo-name",
                f"'{name}' is not declared, and it is close to the option '{guess}'",
                span,
                hint=f"did you mean '{guess}'? If '{name}' is a new option, declare it: option {name} \"...\"",
            )
            return
        if not self.infer:
            self.error("unknown-option", f"'{name}' is not an option of this ruleset", span)
            return
        self.inferred_options[name] = span
        self.note(
            "inferred-option",
            f"'{name}' is not declared; it is taken to be an option",
            span,
            hint=f'declare it to give it a label: option {name} "..."',
        )

    # ------------------------------------------------------------ conditions

    def _condition(self, node: nodes.Condition) -> nodes.Condition:
        if isinstance(node, nodes.Name):
            self._bool_name(node)
            return node
        if isinstance(node, nodes.Not):
            return attrs.evolve(node, operand=self._condition(node.operand))
        if isinstance(node, (nodes.All, nodes.Any)):
            return attrs.evolve(node, operands=tuple(self._condition(c) for c in node.operands))
        if isinstance(node, nodes.Call):
            return self._call(node)
        if isinstance(node, nodes.Compare):
            return self._compare(node)
        if isinstance(node, nodes.Between):
            subject = self._number_operand(node.subject)
            low = self._number_operand(node.low)
            high = self._number_operand(node.high)
            if isinstance(low, nodes.Number) and isinstance(high, nodes.Number) and low.value > high.value:
                self.error(
                    "empty-between",
                    f"'between {low.value} and {high.value}' can never hold: the bounds are reversed",
                    node.span,
                    hint=f"write 'between {high.value} and {low.value}'",
                )
            return attrs.evolve(node, subject=subject, low=low, high=high)
        if isinstance(node, nodes.IsKnown):
            self._any_fact(node.name)
            return node
        if isinstance(node, nodes.InValues):
            self._enum_values(node.name, node.values, node.span)
            return node
        raise TypeError(f"unexpected condition {node!r}")  # pragma: no cover

    def _value_kind(self, name: str) -> str | None:
        """What a name is known to be: a fact kind, 'cause', or None (unknown)."""
        if name in self.facts:
            return self.facts[name].kind
        if name in self.causes or name in self.concluded:
            return "cause"
        if name in self.inferred:
            return self.inferred[name].kind
        return None

    def _unknown_name(self, node: nodes.Name, wanted: str) -> bool:
        """Guard an undeclared name; True when it may be inferred."""
        name = node.name
        if self._names is None:  # facts, causes and concluded causes are all known by now
            self._names = NameIndex([*self.facts, *self.causes, *self.concluded])
        guess = self._names.typo_of(name)
        if guess:
            kind = "fact" if guess in self.facts else "cause"
            self.error(
                "typo-name",
                f"'{name}' is not declared, and it is close to the {kind} '{guess}'",
                node.span,
                hint=f"did you mean '{guess}'? If '{name}' is a new fact, declare it: fact {name}: {wanted}",
            )
            return False
        if name in self.options or name in self.inferred_options:
            self.error(
                "not-a-fact",
                f"'{name}' is an option, and conditions test facts and causes",
                node.span,
                hint=f"to test a fact of that name, declare it: fact {name}_given: {wanted}",
            )
            return False
        if not self.infer:
            guess = closest(name, [*self.facts, *self.inferred, *self.causes, *self.concluded])
            self.error(
                "unknown-name",
                f"'{name}' is not a fact or cause of this ruleset",
                node.span,
                hint=f"did you mean '{guess}'?"
                if guess
                else "invariants may only use the facts and causes that rules use",
            )
            return False
        return True

    def _infer(self, node: nodes.Name, kind: str) -> None:
        self.inferred[node.name] = _Inferred(kind, node.span)
        words = {"bool": "a yes/no fact", "number": "a number fact", "enum": "a fact with named values"}
        self.note(
            "inferred-fact",
            f"'{node.name}' is not declared; it is taken to be {words[kind]}",
            node.span,
            hint=f"declare it to give it a question: fact {node.name}: "
            + {"bool": "bool", "number": "number", "enum": "one of ..."}[kind],
        )

    def _kind_clash(self, node: nodes.Name, have: str, want: str) -> None:
        uses = {
            "bool": "a yes/no fact",
            "number": "a number",
            "enum": "a fact with named values",
            "cause": "a cause",
        }
        hints = {
            "number": f"compare it with a number, for example '{node.name} >= 5'",
            "enum": f"test its value, for example '{node.name} is some_value'",
            "bool": f"use it on its own, for example 'if {node.name} then ...'",
            "cause": f"use it on its own: 'if {node.name} then ...'",
        }
        self.error(
            "type-mismatch",
            f"'{node.name}' is {uses[have]}, but it is used here as {uses[want]}",
            node.span,
            hint=hints.get(have),
        )

    def _bool_name(self, node: nodes.Name) -> None:
        kind = self._value_kind(node.name)
        if kind in ("bool", "cause"):
            return
        if kind is None:
            if self._unknown_name(node, "bool"):
                self._infer(node, "bool")
            return
        self._kind_clash(node, kind, "bool")

    def _any_fact(self, node: nodes.Name) -> None:
        kind = self._value_kind(node.name)
        if kind == "cause":
            self.error(
                "not-a-fact",
                f"'{node.name}' is a cause; 'is known' tests input facts",
                node.span,
                hint=f"test the cause itself: 'if {node.name} then ...'",
            )
        elif kind is None and self._unknown_name(node, "bool"):
            self._infer(node, "bool")

    def _number_name(self, node: nodes.Name) -> None:
        kind = self._value_kind(node.name)
        if kind == "number":
            return
        if kind is None:
            if self._unknown_name(node, "number"):
                self._infer(node, "number")
            return
        self._kind_clash(node, kind, "number")

    def _number_operand(self, node: nodes.Operand) -> nodes.Operand:
        if isinstance(node, nodes.Name):
            self._number_name(node)
        elif isinstance(node, nodes.Call):
            return self._call(node)
        elif isinstance(node, nodes.Text):
            self.error("type-mismatch", "a text cannot be compared as a number", node.span)
        return node

    def _compare(self, node: nodes.Compare) -> nodes.Condition:
        left, right = node.left, node.right
        if isinstance(left, nodes.Number) and not isinstance(right, nodes.Number):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(node.op, node.op)
            left, right = right, left
            node = nodes.Compare(left, flipped, right, span=node.span)
        if isinstance(left, nodes.Number) and isinstance(right, nodes.Number):
            self.error(
                "constant-comparison",
                f"'{left.value} {node.op} {right.value}' compares two numbers and never changes",
                node.span,
                hint="compare a fact with a number, for example 'pain >= 8'",
            )
            return node
        if isinstance(left, nodes.Name) and isinstance(right, nodes.Name):
            left_kind = self._value_kind(left.name)
            right_kind = self._value_kind(right.name)
            if left_kind == "enum" or (left_kind is None and right_kind is None):
                if node.op not in ("=", "!="):
                    self.error(
                        "enum-order",
                        f"'{node.op}' compares numbers, but '{right.name}' is a value name",
                        node.span,
                        hint=f"write '{left.name} is {right.name}' or '{left.name} in [...]'",
                    )
                    return node
                in_values = nodes.InValues(left, (right.name,), negated=node.op == "!=", span=node.span)
                self._enum_values(left, (right.name,), node.span)
                return in_values
            self._number_name(left)
            self._number_name(right)
            return node
        return attrs.evolve(node, left=self._number_operand(left), right=self._number_operand(right))

    def _enum_values(self, name: nodes.Name, values: tuple[str, ...], span: nodes.Span | None) -> None:
        kind = self._value_kind(name.name)
        if kind is None:
            if not self._unknown_name(name, "one of " + ", ".join(values)):
                return
            self._infer(name, "enum")
            kind = "enum"
        if kind != "enum":
            self._kind_clash(name, kind, "enum")
            return
        if name.name in self.facts:
            allowed = self.facts[name.name].values
            for value in values:
                if value not in allowed:
                    guess = closest(value, allowed)
                    self.error(
                        "unknown-value",
                        f"'{value}' is not one of the values of '{name.name}' ({', '.join(allowed)})",
                        span,
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else f"add it to the declaration of '{name.name}'",
                    )
        else:
            inferred = self.inferred[name.name]
            for value in values:
                if value not in inferred.values:
                    guess = self._typo(value, inferred.values)
                    if guess:
                        self.error(
                            "typo-name",
                            f"'{value}' is close to '{guess}', another value of '{name.name}'",
                            span,
                            hint=f"did you mean '{guess}'? Declare the fact to list its values: "
                            f"fact {name.name}: one of ...",
                        )
                        continue
                    inferred.values.append(value)

    def _call(self, node: nodes.Call) -> nodes.Call:
        if node.function not in self.functions:
            guess = closest(node.function, self.functions)
            if guess:
                hint = f"did you mean '{guess}'?"
            elif self.functions:
                hint = "functions available: " + ", ".join(sorted(self.functions))
            else:
                hint = "functions come from plugins; is the plugin that provides it installed?"
            self.error("unknown-function", f"there is no function named '{node.function}'", node.span, hint)
        else:
            self.used_functions.add(node.function)
        for argument in node.arguments:
            if isinstance(argument, nodes.Name):
                if self._value_kind(argument.name) is None:
                    guess = self._typo(argument.name, [*self.facts, *self.causes])
                    self.error(
                        "unknown-name",
                        f"'{argument.name}' is passed to '{node.function}' but is not a declared fact",
                        argument.span,
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else f"declare it, for example: fact {argument.name}: number",
                    )
            elif isinstance(argument, nodes.Call):
                self._call(argument)
        return node

    # ------------------------------------------------------------ overrides and order

    def _check_overrides(self, rules: list[RuleSpec]) -> None:
        by_name = {r.name: r for r in rules}
        for rule in rules:
            for target in rule.overrides:
                if target == rule.name:
                    self.error("override-self", f"rule '{rule.name}' overrides itself", rule.span)
                    continue
                other = by_name.get(target)
                if other is None:
                    guess = closest(target, by_name)
                    self.error(
                        "unknown-rule",
                        f"'{target}' is not a rule of this ruleset",
                        rule.span,
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else "name a rule declared with 'rule NAME:'",
                    )
                elif other.urgent:
                    self.error(
                        "override-urgent",
                        f"rule '{target}' gives an urgent referral, which nothing may override",
                        rule.span,
                        hint=f"remove '{target}' from this rule's overrides",
                    )

    def _order(self, rules: tuple[RuleSpec, ...]) -> tuple[int, ...]:
        concluders: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            for action in rule.actions:
                if action.kind == "suspect":
                    concluders.setdefault(action.target, []).append(i)
        index = {r.name: i for i, r in enumerate(rules)}
        depends: list[set[int]] = [set() for _ in rules]
        why: dict[tuple[int, int], str] = {}
        for i, rule in enumerate(rules):
            for name in _names_in(rule.condition, rule.unless):
                for j in concluders.get(name, ()):
                    depends[i].add(j)
                    why[(i, j)] = f"'{rule.name}' tests {name}, which '{rules[j].name}' suspects"
            for target in rule.overrides:
                if target in index:
                    j = index[target]
                    depends[j].add(i)
                    why[(j, i)] = f"'{rule.name}' overrides '{target}'"
        remaining = [len(d) for d in depends]
        users: list[list[int]] = [[] for _ in rules]
        for i, deps in enumerate(depends):
            for j in deps:
                users[j].append(i)
        ready = [i for i, n in enumerate(remaining) if n == 0]
        heapq.heapify(ready)
        order: list[int] = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for user in users[i]:
                remaining[user] -= 1
                if remaining[user] == 0:
                    heapq.heappush(ready, user)
        if len(order) < len(rules):
            cycle = _find_cycle(depends, {i for i in range(len(rules)) if i not in set(order)})
            steps = [why.get((cycle[k], cycle[k + 1]), "") for k in range(len(cycle) - 1)]
            names = " -> ".join(rules[i].name for i in cycle)
            self.error(
                "rule-cycle",
                f"these rules depend on each other in a cycle: {names}",
                rules[cycle[0]].span,
                hint="; ".join(s for s in steps if s) + ". Break the cycle so no cause depends on itself",
            )
            return tuple(range(len(rules)))
        return tuple(order)

    # ------------------------------------------------------------ invariants and examples

    def _invariants(self, statements: Sequence[nodes.Statement]) -> tuple[nodes.Invariant, ...]:
        out = []
        self.infer = False
        for statement in statements:
            if isinstance(statement, nodes.Invariant):
                condition = self._condition(statement.condition) if statement.condition is not None else None
                self._claim(statement.claim)
                out.append(attrs.evolve(statement, condition=condition))
        self.infer = True
        return tuple(out)

    def _claim(self, claim: nodes.Claim) -> None:
        if isinstance(claim, nodes.Action):
            self._known_target(claim)
        elif isinstance(claim, nodes.ClaimNot):
            self._claim(claim.operand)
        else:
            for operand in claim.operands:
                self._claim(operand)

    def _known_target(self, action: nodes.Action) -> None:
        if action.kind == "suspect":
            if action.target not in self.causes and action.target not in self.concluded:
                guess = closest(action.target, [*self.causes, *self.concluded])
                self.error(
                    "unknown-cause",
                    f"'{action.target}' is not a cause of this ruleset",
                    action.span,
                    hint=f"did you mean '{guess}'?" if guess else None,
                )
        elif action.kind != "refer":
            if action.target not in self.options and action.target not in self.inferred_options:
                guess = closest(action.target, [*self.options, *self.inferred_options])
                self.error(
                    "unknown-option",
                    f"'{action.target}' is not an option of this ruleset",
                    action.span,
                    hint=f"did you mean '{guess}'?" if guess else None,
                )

    def _examples(self, statements: Sequence[nodes.Statement]) -> tuple[nodes.Example, ...]:
        out = []
        labels: set[str] = set()
        for statement in statements:
            if not isinstance(statement, nodes.Example):
                continue
            if statement.label in labels:
                self.error(
                    "duplicate-example",
                    f'there is already an example called "{statement.label}"',
                    statement.span,
                    hint="give each example its own title",
                )
            labels.add(statement.label)
            for given in statement.given:
                if given.fact not in self.facts and given.fact not in self.inferred:
                    guess = closest(given.fact, [*self.facts, *self.inferred])
                    self.error(
                        "unknown-fact",
                        f"the example gives '{given.fact}', which is not a fact of this ruleset",
                        given.span,
                        hint=f"did you mean '{guess}'?" if guess else None,
                    )
            for expectation in statement.expectations:
                if expectation.action is not None:
                    self._known_target(expectation.action)
                elif expectation.question is not None:
                    if expectation.question not in self.facts and expectation.question not in self.inferred:
                        guess = closest(expectation.question, [*self.facts, *self.inferred])
                        self.error(
                            "unknown-fact",
                            f"'{expectation.question}' is not a fact, so it cannot be a question",
                            expectation.span,
                            hint=f"did you mean '{guess}'?" if guess else None,
                        )
            out.append(statement)
        return tuple(out)

    def _unused_checks(self) -> None:
        seen = NameIndex()
        for other in sorted(self.inferred):
            name = seen.typo_of(other)
            seen.add(other)
            if name is not None:
                self.error(
                    "similar-names",
                    f"the undeclared facts '{name}' and '{other}' differ by one or two letters",
                    self.inferred[other].span,
                    hint="if one is a typo, fix it; if both are meant, declare them",
                    severity="warning",
                )
        for name, cause in self.causes.items():
            if name not in self.concluded:
                self.note(
                    "cause-never-suspected",
                    f"no rule suspects the cause '{name}'",
                    cause.span,
                    hint=f"add a rule with 'suspect {name}', or remove the declaration",
                )


def _names_in(*conditions: nodes.Condition | None) -> set[str]:
    """Every bare name a condition tests (facts and causes alike)."""
    return {node.name for node in nodes.walk(*conditions) if isinstance(node, nodes.Name)}


def names_in(*conditions: nodes.Condition | None) -> set[str]:
    """Public alias for the tools that analyse rulesets."""
    return _names_in(*conditions)


def _find_cycle(depends: list[set[int]], among: set[int]) -> list[int]:
    """One dependency cycle among ``among``, as a closed path."""
    start = min(among)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        nxt = min(d for d in depends[node] if d in among)
        if nxt in seen:
            return [*path[seen[nxt] :], nxt]
        seen[nxt] = len(path)
        path.append(nxt)
        node = nxt


def _default_name(origin: str) -> str:
    stem = Path(origin).stem if not origin.startswith("<") else ""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem).strip("_")
    return cleaned or "ruleset"
