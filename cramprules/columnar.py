"""Columnar evaluation: a whole table of fact sets at once, with vectorised three-valued logic.

``Ruleset.evaluate_table(table)`` comes here.  Each condition is computed
over whole columns as a pair of NumPy masks, *surely true* and *surely
false*; a row in neither is unknown.  That is Kleene's logic (``and`` is
true where both are surely true, false where either is surely false), the
same as the row-by-row deciders, so every row comes out exactly as
:meth:`Ruleset.evaluate` would have it.  Needs NumPy and pyarrow (the
``cramprules[arrow]`` extra); the row path never imports this module.

What cannot be vectorised goes row by row and gives the same columns:
rulesets calling plugin functions, or with plugins that derive facts or
convert units, and comparisons between two enum facts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType

from cramprules import nodes
from cramprules.exceptions import FactError
from cramprules.facts import coercer, unknown_fact_error
from cramprules.model import rule_links
from cramprules.states import State

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from cramprules.ruleset import Ruleset

    Mask = npt.NDArray[np.bool_]

__all__ = ["STATE_NAMES", "columns_of", "evaluate_table"]

STATE_NAMES = ("fired", "conditional", "pending", "not_matched", "defeated", "overridden")
"""The values of a ``rule:NAME`` column, indexed by :class:`~cramprules.states.State`."""

FIRED, CONDITIONAL, PENDING, NOT_MATCHED, DEFEATED, OVERRIDDEN = (int(s) for s in State)


class _RowByRow(Exception):
    """This ruleset (or this column) is evaluated row by row."""


def _imports() -> tuple[AnyType, AnyType, AnyType]:
    try:
        import numpy
        import pyarrow
        import pyarrow.compute
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("evaluate_table needs pyarrow and numpy: pip install 'cramprules[arrow]'") from exc
    return numpy, pyarrow, pyarrow.compute


# ---------------------------------------------------------------- input


def columns_of(table: object) -> tuple[dict[str, pa.Array], int, str]:
    """The columns of ``table`` as Arrow arrays, the row count, and what kind of table it was."""
    _, pa, _ = _imports()
    kind = "arrow"
    if isinstance(table, pa.Table):
        columns = {name: table.column(name).combine_chunks() for name in table.column_names}
        return columns, table.num_rows, kind
    if type(table).__module__.startswith("pandas") and hasattr(table, "columns"):
        columns = {}
        for name in table.columns:
            series = table[name]  # type: ignore[index]
            columns[str(name)] = pa.Array.from_pandas(series)
        return columns, len(table), "pandas"  # type: ignore[arg-type]
    if isinstance(table, Mapping):
        columns = {}
        for name, column in table.items():
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            elif not isinstance(column, pa.Array):
                column = pa.array(column, from_pandas=type(column).__module__.startswith("pandas"))
            columns[name] = column
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise FactError(f"the columns have different lengths: {sorted(lengths)}", fact="")
        return columns, lengths.pop() if lengths else 0, kind
    raise TypeError(
        f"evaluate_table() takes a pyarrow Table, a pandas DataFrame or a mapping of columns, "
        f"not {type(table).__name__}"
    )


class _Facts:
    """The input columns as NumPy: numbers and bools with a mask of known rows; enums as codes."""

    def __init__(self, ruleset: Ruleset, columns: Mapping[str, pa.Array], rows: int) -> None:
        np, pa, pc = _imports()
        self.np = np
        self.rows = rows
        program = ruleset.program
        unknown = [name for name in columns if name not in program.facts]
        if unknown:
            raise unknown_fact_error(unknown, program.facts, program.causes)
        self.values: dict[str, AnyType] = {}
        self.known: dict[str, Mask] = {}
        nothing = np.zeros(rows, dtype=bool)
        self.everywhere = np.ones(rows, dtype=bool)
        """The known-mask of every column without nulls: one shared array, so
        kernels can skip masking by identity."""
        for name, spec in program.facts.items():
            column = columns.get(name)
            if column is None or column.null_count == len(column):
                self.known[name] = nothing
                self.values[name] = np.zeros(rows, dtype=np.int16 if spec.kind == "enum" else bool)
                continue
            complete = column.null_count == 0
            known = self.everywhere if complete else column.is_valid().to_numpy(zero_copy_only=False)
            kind = column.type
            if spec.kind == "bool" and pa.types.is_boolean(kind):
                if not complete:
                    column = pc.fill_null(column, False)
                values = column.to_numpy(zero_copy_only=False)
            elif spec.kind == "number" and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                values = pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(float, copy=False)
                if pa.types.is_floating(kind):
                    nan = np.isnan(values) & known
                    if nan.any():
                        self._bad(ruleset, name, columns[name], int(np.argmax(nan)))
                self._check_range(ruleset, name, values, known, column)
            elif spec.kind == "enum" and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                values, known = self._codes(ruleset, name, column, known)
                if complete and known.all():
                    known = self.everywhere
            else:
                values, known = self._coerced(ruleset, name, column)
            self.values[name] = values
            self.known[name] = known

    def _bad(self, ruleset: Ruleset, name: str, column: pa.Array, row: int) -> None:
        value = column[row].as_py()
        try:
            coercer(ruleset.program.facts[name])(value)
        except FactError as exc:
            raise FactError(
                f"row {row}: {exc}", fact=exc.fact, suggestion=exc.suggestion, record=row
            ) from None
        raise AssertionError(f"{name}: {value!r} should have been refused")  # pragma: no cover

    def _check_range(
        self, ruleset: Ruleset, name: str, values: AnyType, known: Mask, column: pa.Array
    ) -> None:
        spec = ruleset.program.facts[name]
        np = self.np
        bad = np.zeros(self.rows, dtype=bool)
        if spec.low is not None:
            bad |= values < spec.low
        if spec.high is not None:
            bad |= values > spec.high
        bad &= known
        if bad.any():
            self._bad(ruleset, name, column, int(np.argmax(bad)))

    def _codes(self, ruleset: Ruleset, name: str, column: pa.Array, known: Mask) -> tuple[AnyType, Mask]:
        """An enum column as the index of each value in the fact's declared values (-1 unknown)."""
        np = self.np
        _, _, pc = _imports()
        spec = ruleset.program.facts[name]
        encoded = pc.dictionary_encode(column)
        convert = coercer(spec)
        table = []
        for row_value in encoded.dictionary.to_pylist():
            try:
                word = convert(row_value)
            except FactError:
                word = "\0bad"
            table.append(-1 if word is None else (spec.values.index(word) if word in spec.values else -2))
        lookup = np.array([*table, -1], dtype=np.int16)
        indices = pc.fill_null(encoded.indices, len(table)).to_numpy(zero_copy_only=False)
        codes = lookup[indices]
        if (codes == -2).any():
            self._bad(ruleset, name, column, int(np.argmax(codes == -2)))
        return codes, codes >= 0

    def _coerced(self, ruleset: Ruleset, name: str, column: pa.Array) -> tuple[AnyType, Mask]:
        """Any other column, value by value through the fact's coercer (``"yes"``, ``"7"``, ...)."""
        np = self.np
        spec = ruleset.program.facts[name]
        convert = coercer(spec)
        out: list[object] = []
        for row, value in enumerate(column.to_pylist()):
            try:
                out.append(convert(value))
            except FactError as exc:
                raise FactError(
                    f"row {row}: {exc}", fact=exc.fact, suggestion=exc.suggestion, record=row
                ) from None
        known = np.array([v is not None for v in out], dtype=bool)
        if spec.kind == "bool":
            return np.array([bool(v) for v in out], dtype=bool), known
        if spec.kind == "number":
            return np.array([0.0 if v is None else float(v) for v in out], dtype=float), known  # type: ignore[arg-type]
        codes = np.array([-1 if v is None else spec.values.index(v) for v in out], dtype=np.int16)
        return codes, known


# ---------------------------------------------------------------- the kernels


class _Kernels:
    """Conditions over columns: each a pair (surely true, surely false)."""

    def __init__(self, ruleset: Ruleset, facts: _Facts) -> None:
        self.np = facts.np
        self.program = ruleset.program
        self.facts = facts
        self.rows = facts.rows
        self.true = facts.everywhere
        self.false = self.np.zeros(self.rows, dtype=bool)
        self.causes: dict[str, tuple[Mask, Mask]] = {}
        self.hopeful: dict[str, tuple[Mask, Mask]] = {}
        self.hope = False

    def condition(self, node: nodes.Condition) -> tuple[Mask, Mask]:
        if isinstance(node, nodes.Name):
            name = node.name
            if name in self.program.causes:
                return (self.hopeful if self.hope else self.causes)[name]
            value, known = self.facts.values[name], self.facts.known[name]
            if known is self.true:
                return value, ~value
            return value & known, ~value & known
        if isinstance(node, nodes.Not):
            t, f = self.condition(node.operand)
            return f, t
        if isinstance(node, nodes.All):
            parts = [self.condition(c) for c in node.operands]
            t, f = parts[0]
            for pt, pf in parts[1:]:
                t, f = t & pt, f | pf
            return t, f
        if isinstance(node, nodes.Any):
            parts = [self.condition(c) for c in node.operands]
            t, f = parts[0]
            for pt, pf in parts[1:]:
                t, f = t | pt, f & pf
            return t, f
        if isinstance(node, nodes.Compare):
            (left, right), known = self._numbers(node.left, node.right)
            op = node.op
            if op in ("=", "=="):
                holds = left == right
            elif op == "!=":
                holds = left != right
            elif op == "<":
                holds = left < right
            elif op == "<=":
                holds = left <= right
            elif op == ">":
                holds = left > right
            elif op == ">=":
                holds = left >= right
            else:  # pragma: no cover - the grammar has no other
                raise _RowByRow(op)
            return self._split(holds, known)
        if isinstance(node, nodes.Between):
            (subject, low, high), known = self._numbers(node.subject, node.low, node.high)
            holds = (low <= subject) & (subject <= high)
            return self._split(holds, known)
        if isinstance(node, nodes.IsKnown):
            known = self.facts.known[node.name.name]
            return (known, ~known) if node.known else (~known, known)
        if isinstance(node, nodes.InValues):
            spec = self.program.facts[node.name.name]
            codes, known = self.facts.values[node.name.name], self.facts.known[node.name.name]
            wanted = [spec.values.index(v) for v in node.values if v in spec.values]
            holds = self.np.isin(codes, wanted) if wanted else self.false
            if node.negated:
                holds = ~holds
            return self._split(holds, known)
        raise _RowByRow(type(node).__name__)

    def _split(self, holds: Mask, known: Mask) -> tuple[Mask, Mask]:
        if known is self.true:
            return holds, ~holds
        return holds & known, ~holds & known

    def _numbers(self, *operands: nodes.Operand) -> tuple[list[AnyType], Mask]:
        values: list[AnyType] = []
        known = self.true
        for operand in operands:
            if isinstance(operand, nodes.Number):
                values.append(operand.value)
            elif isinstance(operand, nodes.Name) and self.program.facts.get(operand.name) is not None:
                spec = self.program.facts[operand.name]
                if spec.kind != "number":
                    raise _RowByRow("a comparison of non-numbers")
                values.append(self.facts.values[operand.name])
                other = self.facts.known[operand.name]
                known = other if known is self.true else (known if other is self.true else known & other)
            else:
                raise _RowByRow("a comparison of non-numbers")
        return values, known

    def fast(self, node: nodes.Condition) -> Mask:
        """A condition over columns without unknowns: one mask, as the two-valued decider."""
        if isinstance(node, nodes.Name):
            if node.name in self.program.causes:
                return self.causes[node.name][0]
            return self.facts.values[node.name]  # type: ignore[no-any-return]
        if isinstance(node, nodes.Not):
            return ~self.fast(node.operand)
        if isinstance(node, (nodes.All, nodes.Any)):
            parts = [self.fast(c) for c in node.operands]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node, nodes.All) else (out | part)
            return out
        if isinstance(node, nodes.IsKnown):
            return self.true if node.known else self.false  # type: ignore[no-any-return]
        holds: Mask = self.condition(node)[0]
        return holds

    def states(self) -> list[AnyType]:
        """Every rule's state column (int8), in source order."""
        if all(known is self.true for known in self.facts.known.values()):
            return self._two_valued()
        return self._kleene()

    def _two_valued(self) -> list[AnyType]:
        """Every fact known in every row: the two-valued decider, column by column."""
        np = self.np
        program = self.program
        states: list[AnyType] = [None] * len(program.rules)
        concluders, overriders = rule_links(self.program)
        for i in program.order:
            rule = program.rules[i]
            for name in nodes.names_in(rule.condition, rule.unless):
                if name in program.causes and name not in self.causes:
                    fired = self._any([states[j] == FIRED for j in concluders.get(name, ())] or [self.false])
                    self.causes[name] = (fired, ~fired)
            holds = self.fast(rule.condition)
            state = (~holds).view(np.int8) * np.int8(NOT_MATCHED)
            if rule.unless is not None:
                state += (holds & self.fast(rule.unless)).view(np.int8) * np.int8(DEFEATED)
            over = overriders.get(rule.name, ())
            if over:
                beaten = (state == FIRED) & self._any([states[j] == FIRED for j in over])
                state += beaten.view(np.int8) * np.int8(OVERRIDDEN)
            states[i] = state
        return states

    def _kleene(self) -> list[AnyType]:
        """Some facts unknown somewhere: the Kleene decider, column by column."""
        np = self.np
        program = self.program
        states: list[AnyType] = [None] * len(program.rules)
        concluders, overriders = rule_links(self.program)
        for i in program.order:
            rule = program.rules[i]
            for name in nodes.names_in(rule.condition, rule.unless):
                if name in program.causes and name not in self.causes:
                    self._cause(name, [states[j] for j in concluders.get(name, ())])
            t, f = self.condition(rule.condition)
            via = None
            if any(name in program.causes for name in nodes.names_in(rule.condition)):
                self.hope = True
                try:
                    hope_t, _ = self.condition(rule.condition)
                finally:
                    self.hope = False
                via = ~t & ~f & hope_t
                t = t | via
            # Each step overrides the one before, as the decider's nested choice does:
            # not matched > defeated > pending > conditional > fired.
            state = np.zeros(self.rows, dtype=np.int8)
            put = _put
            if rule.unless is not None:
                ut, uf = self.condition(rule.unless)
                put(state, CONDITIONAL, where=~(ut | uf))
            if via is not None:
                put(state, CONDITIONAL, where=via)
            put(state, PENDING, where=~(t | f))
            if rule.unless is not None:
                put(state, DEFEATED, where=ut)
            put(state, NOT_MATCHED, where=f)
            over = overriders.get(rule.name, ())
            if over:
                applies = state <= CONDITIONAL
                fired = self._any([states[j] == FIRED for j in over])
                maybe = self._any([states[j] < NOT_MATCHED for j in over])
                put(state, CONDITIONAL, where=applies & maybe)
                put(state, OVERRIDDEN, where=applies & fired)
            states[i] = state
        return states

    def _cause(self, name: str, concluders: Sequence[AnyType]) -> None:
        if not concluders:
            self.causes[name] = self.hopeful[name] = (self.false, self.true)
            return
        fired = self._any([s == FIRED for s in concluders])
        maybe = self._any([s < NOT_MATCHED for s in concluders])
        applies = self._any([s <= CONDITIONAL for s in concluders])
        self.causes[name] = (fired, ~fired & ~maybe)
        self.hopeful[name] = (applies, ~applies & ~maybe)

    def _any(self, masks: Sequence[Mask]) -> Mask:
        out = masks[0]
        for mask in masks[1:]:
            out = out | mask
        return out


# ---------------------------------------------------------------- decisions


def _decisions(ruleset: Ruleset, states: Sequence[AnyType], np: AnyType, rows: int) -> dict[str, AnyType]:
    """Which claims stand (w) and stand for sure (f), per claim, as the generated decisions say."""
    claims = ruleset.claims
    standing: list[AnyType] = [None] * len(claims)
    sure: list[AnyType] = [None] * len(claims)
    dead: list[AnyType] = [None] * len(claims)
    beaters = {w for claim in claims for w, _ in claim.beaten_by}
    # Masks of a rule's state, made once per rule: most claims share them unchanged.
    applies: dict[int, AnyType] = {}
    fired: dict[int, AnyType] = {}
    for claim in claims:
        rule = claim.rule
        if rule not in applies:
            applies[rule] = states[rule] <= CONDITIONAL
            fired[rule] = states[rule] == FIRED
        winners = [i for i, _ in claim.beaten_by]
        w, f = applies[rule], fired[rule]
        if winners:
            w = w & ~_any(np, rows, [standing[x] for x in winners])
            f = w & fired[rule]
            for winner in winners:
                f = f & dead[winner]
        standing[claim.index], sure[claim.index] = w, f
        if claim.index in beaters:
            killed = states[rule] > PENDING
            for winner in winners:
                killed = killed | sure[winner]
            dead[claim.index] = killed
    return {"standing": standing, "sure": sure}


def evaluate_table(ruleset: Ruleset, table: object) -> AnyType:
    """The decisions for every row of ``table``, as a table; see :meth:`Ruleset.evaluate_table`."""
    np, pa, _ = _imports()
    columns, rows, kind = columns_of(table)
    try:
        if ruleset.derivers or ruleset.program.functions:
            raise _RowByRow("plugins")
        if ruleset.normalize is not None and any(
            pa.types.is_string(c.type)
            for n, c in columns.items()
            if n in ruleset.program.facts and ruleset.program.facts[n].kind == "number"
        ):
            raise _RowByRow("quantities with units")
        facts = _Facts(ruleset, columns, rows)
        states = _Kernels(ruleset, facts).states()
    except _RowByRow:
        states = _states_row_by_row(ruleset, columns, rows, np)
    out = _outputs(ruleset, states, np, pa, rows)
    return out.to_pandas() if kind == "pandas" else out


def _states_row_by_row(
    ruleset: Ruleset, columns: Mapping[str, pa.Array], rows: int, np: AnyType
) -> list[AnyType]:
    names = list(columns)
    values = [columns[n].to_pylist() for n in names]
    records = [
        {n: v[row] for n, v in zip(names, values) if v[row] is not None and not _nan(v[row])}
        for row in range(rows)
    ]
    try:
        reports = ruleset.evaluate_many(records)
    except FactError as exc:
        message = str(exc).replace("record ", "row ", 1)
        raise FactError(message, fact=exc.fact, suggestion=exc.suggestion, record=exc.record) from None
    matrix = np.array([r.states for r in reports], dtype=np.int8).reshape(rows, len(ruleset.rules))
    return [matrix[:, i].copy() for i in range(len(ruleset.rules))]


def _nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _three_valued(pa: AnyType, np: AnyType, sure: AnyType, shown: AnyType) -> AnyType:
    """True where surely given, null where given conditionally, False where not given.

    Built from bit-packed buffers: Arrow keeps booleans as bits."""
    rows = len(sure)
    data = pa.py_buffer(np.packbits(sure, bitorder="little"))
    if sure is shown:
        return pa.Array.from_buffers(pa.bool_(), rows, [None, data], null_count=0)
    conditional = shown ^ sure  # sure rows are always shown
    if not conditional.any():
        return pa.Array.from_buffers(pa.bool_(), rows, [None, data], null_count=0)
    validity = pa.py_buffer(np.packbits(~conditional, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), rows, [validity, data])


def _outputs(ruleset: Ruleset, states: Sequence[AnyType], np: AnyType, pa: AnyType, rows: int) -> AnyType:
    program = ruleset.program
    names: list[str] = []
    arrays: list[AnyType] = []
    dictionary = pa.array(STATE_NAMES)
    for rule, state in zip(program.rules, states):
        names.append(f"rule:{rule.name}")
        arrays.append(pa.DictionaryArray.from_arrays(pa.array(state, type=pa.int8()), dictionary, safe=False))
    decided = _decisions(ruleset, states, np, rows)
    standing, sure = decided["standing"], decided["sure"]
    claims = ruleset.claims
    recommendation_order, referral_order = _orders(ruleset)
    # Advice: one column per action and option, in report order.
    groups: dict[tuple[str, str], list[int]] = {}
    for index in recommendation_order:
        action = claims[index].action
        groups.setdefault((action.kind, action.target), []).append(index)
    labels: list[str] = []
    shown_groups: list[tuple[int, AnyType]] = []
    for (kind, target), members in groups.items():
        shown = _any(np, rows, [standing[i] for i in members])
        fired = _any(np, rows, [sure[i] for i in members])
        names.append(f"{kind}:{target}")
        arrays.append(_three_valued(pa, np, fired, shown))
        if target not in labels:
            labels.append(target)
        shown_groups.append((labels.index(target), shown))
    # The first shown group in report order wins: write them last to first,
    # in small-integer arithmetic (masked writes are ten times slower).
    kind = np.int8 if len(labels) < 127 else np.int32
    top = np.full(rows, -1, dtype=kind)
    for label, shown in reversed(shown_groups):
        top += shown.view(np.int8).astype(kind, copy=False) * (kind(label) - top)
    # Referrals: one column per place referred to.
    referrals: dict[str, list[int]] = {}
    urgent = np.zeros(rows, dtype=bool)  # as Report.urgent: any urgent referral standing
    for index in referral_order:
        referrals.setdefault(claims[index].action.target, []).append(index)
        if claims[index].action.urgent:
            urgent |= standing[index]
    for target, members in referrals.items():
        shown = _any(np, rows, [standing[i] for i in members])
        fired = _any(np, rows, [sure[i] for i in members])
        names.append(f"refer:{target}")
        arrays.append(_three_valued(pa, np, fired, shown))
    # Causes: suspected for sure, conditionally, or not at all.
    suspecting: dict[str, list[int]] = {name: [] for name in program.causes}
    for i, rule in enumerate(program.rules):
        for action in rule.actions:
            if action.kind == "suspect":
                suspecting.setdefault(action.target, []).append(i)
    for cause, rules in suspecting.items():
        fired = _any(np, rows, [states[i] == FIRED for i in rules])
        shown = _any(np, rows, [states[i] <= CONDITIONAL for i in rules])
        names.append(f"cause:{cause}")
        arrays.append(_three_valued(pa, np, fired, shown))
    names.append("urgent")
    arrays.append(_three_valued(pa, np, urgent, urgent))
    names.append("top")
    if labels:
        given = top >= 0
        indices = pa.Array.from_buffers(
            pa.from_numpy_dtype(top.dtype),
            rows,
            [
                pa.py_buffer(np.packbits(given, bitorder="little")),
                pa.py_buffer(top * given.view(np.int8).astype(top.dtype, copy=False)),
            ],
        )
        arrays.append(pa.DictionaryArray.from_arrays(indices, pa.array(labels), safe=False))
    else:
        arrays.append(pa.nulls(rows, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


def _orders(ruleset: Ruleset) -> tuple[list[int], list[int]]:
    from cramprules.claims import report_orders

    return report_orders(ruleset.program, ruleset.claims)


def _put(state: AnyType, value: int, where: AnyType) -> None:
    """``state[where] = value`` in int8 arithmetic: masked writes are ten times slower."""
    state += where.view(state.dtype) * (state.dtype.type(value) - state)


def _any(np: AnyType, rows: int, masks: Sequence[AnyType]) -> AnyType:
    if not masks:
        return np.zeros(rows, dtype=bool)
    out = masks[0]
    for mask in masks[1:]:
        out = out | mask
    return out
