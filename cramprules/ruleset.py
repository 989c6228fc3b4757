"""The compiled, immutable ruleset that applications evaluate facts against."""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING
from typing import Any as AnyType

import attrs

from cramprules.claims import ClaimSpec, source_of
from cramprules.compiler import Code, Compiled, Decisions, Functions, compile_program, restore_program
from cramprules.evaluator import Value
from cramprules.exceptions import Diagnostic, FactError
from cramprules.facts import describe_kind
from cramprules.model import CauseSpec, FactSpec, OptionSpec, Program, RuleSpec
from cramprules.nodes import RulesetHeader, names_in
from cramprules.outcomes import Recommendation, Referral, Source
from cramprules.report import Report
from cramprules.units import Normalizer
from cramprules.whatif import candidate_values

if TYPE_CHECKING:
    from cramprules.recipe import Recipe

__all__ = ["Ruleset", "build_ruleset", "restore_ruleset", "saved_state"]

_make = tuple.__new__

Deriver = Callable[[Mapping[str, object], "Ruleset"], Mapping[str, object]]
ReportHook = Callable[[Report], None]


@attrs.frozen(eq=False)
class Ruleset:
    """A checked and compiled ruleset.  Immutable, and safe to share between threads.

    Build one with :func:`cramprules.load_ruleset`, :func:`cramprules.parse_ruleset`
    or :func:`cramprules.default_ruleset`, then call :meth:`evaluate`.
    """

    program: Program = attrs.field(repr=False)
    compiled: Compiled = attrs.field(repr=False)
    claims: tuple[ClaimSpec, ...] = attrs.field(repr=False)
    decisions: Decisions = attrs.field(repr=False)
    templates: Mapping[int, Recommendation | Referral] = attrs.field(repr=False)
    candidates: Mapping[str, tuple[Value, ...]] = attrs.field(repr=False)
    used_facts: frozenset[str] = attrs.field(repr=False)
    referral_targets: frozenset[str] = attrs.field(repr=False)
    sha256: str
    engine_version: str = attrs.field(repr=False)
    interpreter_functions: Mapping[str, Callable[..., object]] = attrs.field(repr=False)
    derivers: tuple[Deriver, ...] = attrs.field(default=(), repr=False)
    report_hooks: tuple[ReportHook, ...] = attrs.field(default=(), repr=False)
    normalize: Normalizer | None = attrs.field(default=None, repr=False)
    """Puts quantities (``"0.7 mmol/L"``) into their facts' declared units, before derivation."""
    recipe: Recipe | None = attrs.field(default=None, repr=False)
    """What it was built from (texts and plugin names): how it pickles."""
    atom_texts: dict[int, tuple[object, str]] = attrs.field(factory=dict, repr=False, eq=False)
    """The printed tests of its conditions, filled as reports explain them (a cache)."""

    # ------------------------------------------------------------ description

    @property
    def name(self) -> str:
        return self.program.name

    @property
    def title(self) -> str | None:
        return self.program.title

    @property
    def version(self) -> str | None:
        return self.program.version

    @property
    def facts(self) -> Mapping[str, FactSpec]:
        """Every fact, declared or inferred, in declaration order."""
        return types.MappingProxyType(self.program.facts)

    @property
    def options(self) -> Mapping[str, OptionSpec]:
        return types.MappingProxyType(self.program.options)

    @property
    def causes(self) -> Mapping[str, CauseSpec]:
        return types.MappingProxyType(self.program.causes)

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        """The rules that take part in evaluation, in source order."""
        return self.program.rules

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Notes found while checking: inferred names and the like."""
        return self.program.diagnostics

    def source(self, name: str) -> Source:
        return source_of(self.program, name)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, facts: Mapping[str, object] | None = None, /, **more: object) -> Report:
        """Evaluate one set of facts.  A fact left out, or ``None``, is unknown.

        Raises :class:`~cramprules.FactError` for a name the ruleset does not
        know (with a suggestion), a value of the wrong type, or one out of range.
        """
        if more or facts.__class__ is not dict:
            return self._evaluate_any(facts, more)
        # The common case: one plain dict.
        if self.normalize is not None:
            facts = self.normalize(facts)
        if self.derivers:
            facts = self._derive(facts)
        report: Report = _make(Report, (self, *self.compiled.run(facts)))
        if self.report_hooks:
            for hook in self.report_hooks:
                hook(report)
        return report

    def _evaluate_any(self, facts: Mapping[str, object] | None, more: dict[str, object]) -> Report:
        if facts is None:
            facts = more
        elif more:
            facts = {**facts, **more}
        elif not isinstance(facts, Mapping):
            raise FactError(
                f"facts must be a mapping of names to values, not {describe_kind(facts)}",
                fact="",
            )
        if self.normalize is not None:
            facts = self.normalize(facts)
        if self.derivers:
            facts = self._derive(facts)
        values, states = self.compiled.run(facts)
        report: Report = _make(Report, (self, values, states))
        for hook in self.report_hooks:
            hook(report)
        return report

    def evaluate_many(self, records: Iterable[Mapping[str, object]]) -> list[Report]:
        """Evaluate many fact sets: the fast path for batches.

        A bad record raises :class:`~cramprules.FactError` whose message starts
        with its position (``record 17: ...``) and whose ``record`` attribute
        holds it.
        """
        reports: list[Report] = []
        self._evaluate_into(iter(records), reports)
        return reports

    def evaluate_each(self, records: Iterable[Mapping[str, object]]) -> list[Report | FactError]:
        """A report for each fact set, or the :class:`~cramprules.FactError` that stopped it.

        For batches that go past bad records: unlike :meth:`evaluate_many`,
        a bad record does not stop the others.  The errors carry no position;
        the list's is the record's.
        """
        out: list[Report | FactError] = []
        remaining = iter(records)
        while True:
            reports: list[Report] = []
            try:
                self._evaluate_into(remaining, reports)
            except FactError as exc:
                out.extend(reports)
                message = str(exc).removeprefix(f"record {exc.record}: ")
                out.append(FactError(message, fact=exc.fact, suggestion=exc.suggestion))
                continue
            out.extend(reports)
            return out

    def _evaluate_into(self, records: Iterator[Mapping[str, object]], reports: list[Report]) -> None:
        """Evaluate until ``records`` run out, or a bad one raises: the reports so far stay in ``reports``."""
        run = self.compiled.run
        make = _make
        derive = self._derive if self.derivers else None
        normalize = self.normalize
        hooks = self.report_hooks
        append = reports.append
        facts: object = None
        try:
            if normalize is None and derive is None and not hooks:
                for facts in records:  # the common case: nothing but the deciders
                    if facts.__class__ is not dict and not isinstance(facts, Mapping):
                        raise TypeError  # a string would otherwise be read as its characters
                    append(make(Report, (self, *run(facts))))
            else:
                for facts in records:
                    if facts.__class__ is not dict and not isinstance(facts, Mapping):
                        raise TypeError  # a string would otherwise be read as its characters
                    if normalize is not None:
                        facts = normalize(facts)
                    if derive is not None:
                        facts = derive(facts)
                    report: Report = make(Report, (self, *run(facts)))
                    for hook in hooks:
                        hook(report)
                    append(report)
        except FactError as exc:
            index = len(reports)
            raise FactError(
                f"record {index}: {exc}", fact=exc.fact, suggestion=exc.suggestion, record=index
            ) from None
        except (AttributeError, TypeError):
            if isinstance(facts, Mapping):
                raise
            index = len(reports)
            raise FactError(
                f"record {index}: facts must be a mapping of names to values, not {describe_kind(facts)}",
                fact="",
                record=index,
            ) from None

    def evaluate_table(self, table: object) -> AnyType:
        """Evaluate every row of a table at once, column by column.

        ``table`` is a pyarrow ``Table``, a pandas ``DataFrame`` or a mapping
        of fact names to columns (lists, NumPy or Arrow arrays); a null (or,
        in pandas, NaN) is an unknown fact.  Returns a pyarrow ``Table`` (a
        ``DataFrame`` for a ``DataFrame``) with one row per input row:

        - ``rule:NAME``: the rule's state (``fired``, ``conditional``,
          ``pending``, ``not_matched``, ``defeated``, ``overridden``);
        - ``ACTION:OPTION`` (``recommend:stretching``, ``avoid:citrate``),
          ``refer:TARGET`` and ``cause:NAME``: true where given for sure,
          null where given conditionally (it depends on an unknown), false
          where not given;
        - ``urgent``: whether an urgent referral is given;
        - ``top``: the option of the first recommendation, null if none.

        Every row is exactly what :meth:`evaluate` gives for it.  Needs the
        ``cramprules[arrow]`` extra (pyarrow, NumPy).  A bad value raises
        :class:`~cramprules.FactError` naming its row.  Report hooks of
        plugins are not called.
        """
        from cramprules import columnar

        return columnar.evaluate_table(self, table)

    def _derive(self, facts: Mapping[str, object]) -> Mapping[str, object]:
        merged = dict(facts)
        view = types.MappingProxyType(dict(facts))
        for derive in self.derivers:
            for name, value in derive(view, self).items():
                if merged.get(name) is None:
                    merged[name] = value
        return merged

    # ------------------------------------------------------------ pickling

    def __reduce__(self) -> tuple[Callable[..., Ruleset], tuple[Recipe]]:
        """Pickle as source texts and plugin names; unpickling checks and compiles again.

        Compiled functions do not pickle, and a worker on another machine has
        no access to this one's files: the texts travel, and the plugins are
        loaded there by name (see :mod:`cramprules.recipe`).
        """
        if self.recipe is None:
            raise TypeError(
                f"ruleset '{self.name}' was not built by an Engine, so it cannot be pickled; "
                "build it with cramprules.parse_ruleset/load_ruleset or an Engine"
            )
        from cramprules.engine import Engine

        return (Engine.rebuild, (self.recipe,))

    def __repr__(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"<Ruleset {self.name}{version}: {len(self.rules)} rules, {len(self.facts)} facts>"


def source_hash(program: Program) -> str:
    digest = hashlib.sha256()
    for _, text in program.texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def build_ruleset(
    program: Program,
    *,
    functions: Functions | None = None,
    derivers: tuple[Deriver, ...] = (),
    report_hooks: tuple[ReportHook, ...] = (),
    normalize: Normalizer | None = None,
    engine_version: str,
    recipe: Recipe | None = None,
) -> Ruleset:
    """Compile a checked program into a :class:`Ruleset`."""
    compiled = compile_program(program, functions)
    used = names_in(*(c for rule in program.rules for c in (rule.condition, rule.unless)))
    return _assemble(
        program,
        compiled,
        candidates=candidate_values(program),
        used_facts=frozenset(used & set(program.facts)),
        referral_targets=frozenset(a.target for r in program.rules for a in r.actions if a.kind == "refer"),
        sha256=source_hash(program),
        derivers=derivers,
        report_hooks=report_hooks,
        normalize=normalize,
        engine_version=engine_version,
        recipe=recipe,
    )


def saved_state(ruleset: Ruleset) -> tuple[object, ...]:
    """The plain data of a ruleset that a cache keeps (no functions, no code).

    Of the parsed documents only each one's header stays (what ``check``'s
    lint reads): the rules themselves are in the program, checked."""
    program = ruleset.program
    documents = tuple(
        attrs.evolve(d, statements=tuple(s for s in d.statements if isinstance(s, RulesetHeader)))
        for d in program.documents
    )
    return (
        attrs.evolve(program, documents=documents),
        ruleset.claims,
        dict(ruleset.templates),
        dict(ruleset.candidates),
        ruleset.used_facts,
        ruleset.referral_targets,
        ruleset.sha256,
    )


def restore_ruleset(
    state: tuple[AnyType, ...],
    code: Code,
    *,
    functions: Functions | None = None,
    derivers: tuple[Deriver, ...] = (),
    report_hooks: tuple[ReportHook, ...] = (),
    normalize: Normalizer | None = None,
    engine_version: str,
    recipe: Recipe | None = None,
) -> Ruleset:
    """A ruleset from :func:`saved_state` and its compiled code, with the engine's live parts."""
    program, claims, templates, candidates, used_facts, referral_targets, sha256 = state
    compiled = restore_program(program, claims, templates, code, functions)
    return _assemble(
        program,
        compiled,
        candidates=candidates,
        used_facts=used_facts,
        referral_targets=referral_targets,
        sha256=sha256,
        derivers=derivers,
        report_hooks=report_hooks,
        normalize=normalize,
        engine_version=engine_version,
        recipe=recipe,
    )


def _assemble(
    program: Program,
    compiled: Compiled,
    *,
    candidates: Mapping[str, tuple[Value, ...]],
    used_facts: frozenset[str],
    referral_targets: frozenset[str],
    sha256: str,
    derivers: tuple[Deriver, ...],
    report_hooks: tuple[ReportHook, ...],
    normalize: Normalizer | None,
    engine_version: str,
    recipe: Recipe | None,
) -> Ruleset:
    """The one place a :class:`Ruleset` is put together, built fresh or from the cache."""
    return Ruleset(
        program=program,
        compiled=compiled,
        claims=compiled.claims,
        decisions=compiled.decisions,
        templates=compiled.templates,
        candidates=types.MappingProxyType(dict(candidates)),
        used_facts=used_facts,
        referral_targets=referral_targets,
        sha256=sha256,
        engine_version=engine_version,
        interpreter_functions=compiled.functions,
        derivers=derivers,
        report_hooks=report_hooks,
        normalize=normalize,
        recipe=recipe,
    )
