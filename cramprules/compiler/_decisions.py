"""Which claims stand, as generated code: the fast path from rule states to advice."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence

import attrs

from cramprules.claims import ClaimSpec
from cramprules.compiler._deciders import CHUNK, FIRED, NOT_MATCHED, PENDING, compile_parts, ident

__all__ = ["Decisions", "compile_decisions", "generate_decisions", "load_decisions"]


@attrs.frozen
class Decisions:
    """Which claims stand, as generated code: the fast path to the decision.

    ``recommendations(states, build)`` and ``referrals(states, build)`` return
    the standing claims in report order, each option and action once: the
    shared template of a claim whose rule fired, else ``build(index)``.
    """

    recommendations: Callable[[tuple[int, ...], Callable[[int], object]], tuple[object, ...]]
    referrals: Callable[[tuple[int, ...], Callable[[int], object]], tuple[object, ...]]
    source: str = attrs.field(repr=False)


def compile_decisions(
    claims: Sequence[ClaimSpec],
    recommendation_order: Sequence[int],
    referral_order: Sequence[int],
    rule_count: int,
    templates: Mapping[int, object],
    *,
    chunk: int = CHUNK,
) -> Decisions:
    """Generate the conflict resolution of :func:`cramprules.claims.resolve`.

    ``claims`` are :class:`~cramprules.claims.ClaimSpec` in resolution
    order; the orders list claim indices as reports show them; ``templates``
    are the finished values of claims whose rule fired.
    """
    parts = generate_decisions(claims, recommendation_order, referral_order, rule_count, chunk=chunk)
    code = compile_parts(parts, "<cramprules decisions>")
    return load_decisions(code, templates, "\n\n".join(parts))


def generate_decisions(
    claims: Sequence[ClaimSpec],
    recommendation_order: Sequence[int],
    referral_order: Sequence[int],
    rule_count: int,
    *,
    chunk: int = CHUNK,
) -> tuple[str, ...]:
    """The source of the decisions: small rulesets in locals, large ones in chunks.

    A ruleset of more than :data:`CHUNK` rules is split into functions of
    a few hundred lines each that keep ``w``/``f``/``d`` in lists, so that
    ``compile()`` stays linear in the size of the ruleset.
    """
    if rule_count == 0:
        return (
            "def recommendations(states, build):\n    return ()",
            "def referrals(states, build):\n    return ()",
        )
    beaters = {w for c in claims for w, _ in c.beaten_by}
    beaten = {c.index for c in claims if c.beaten_by}
    needed = beaters | beaten
    chunked = rule_count > chunk

    def s(rule: int) -> str:
        return f"S[{rule}]" if chunked else f"s{rule}"

    def w(index: int) -> str:
        return f"W[{index}]" if chunked else f"w{index}"

    def f(index: int) -> str:
        return f"F[{index}]" if chunked else f"f{index}"

    def d(index: int) -> str:
        return f"D[{index}]" if chunked else f"d{index}"

    def active(index: int) -> str:
        return f"{s(claims[index].rule)} < {NOT_MATCHED - 1}"

    def standing(index: int) -> str:
        return w(index) if index in needed else f"({active(index)})"

    def sure(index: int) -> str:
        """Stands, and no answer to an open question can remove it."""
        return f(index) if index in needed else f"{s(claims[index].rule)} == {FIRED}"

    # w: the claim stands; f: it stands for sure; d: it can never stand (its
    # rule cannot apply, or a sure claim beats it).  Beaters come first.
    lines: list[str] = []
    for claim in claims:
        i, rule = claim.index, claim.rule
        if i not in needed:
            continue
        winners = [x for x, _ in claim.beaten_by]
        if winners:
            lines.append(f"{w(i)} = {active(i)} and not ({' or '.join(w(x) for x in winners)})")
            lines.append(
                f"{f(i)} = {w(i)} and {s(rule)} == {FIRED} and {' and '.join(d(x) for x in winners)}"
            )
        else:
            lines.append(f"{w(i)} = {active(i)}")
            lines.append(f"{f(i)} = {w(i)} and {s(rule)} == {FIRED}")
        if i in beaters:
            killers = "".join(f" or {f(x)}" for x in winners)
            lines.append(f"{d(i)} = {s(rule)} > {PENDING}{killers}")

    def outputs(order: Sequence[int]) -> list[str]:
        def key(index: int) -> tuple[object, ...]:
            # Advice is given once per option; every rule's referral is kept,
            # each with its own reason.
            action = claims[index].action
            if action.kind == "refer":
                return (index,)
            return (action.kind, action.target)

        groups: dict[tuple[object, ...], list[int]] = {}
        for index in order:
            groups.setdefault(key(index), []).append(index)
        body: list[str] = []
        for group in groups.values():
            if len(group) == 1:
                (member,) = group
                value = f"T{member} if {sure(member)} else build({member})"
                body.append(f"if {standing(member)}: out.append({value})")
                continue
            # Several rules give the same advice: a plain one beats a conditional one.
            keyword = "if"
            for member in group:
                body.append(f"{keyword} {sure(member)}: out.append(T{member})")
                keyword = "elif"
            for member in group:
                body.append(f"elif {standing(member)}: out.append(build({member}))")
        return body

    if not chunked:
        unpack = ", ".join(f"s{i}" for i in range(rule_count)) + ("," if rule_count == 1 else "")

        def chooser(name: str, order: Sequence[int]) -> list[str]:
            return [
                f"def {name}(states, build):",
                f"    ({unpack}) = states",
                *("    " + line for line in lines),
                "    out = []",
                *("    " + line for line in outputs(order)),
                "    return tuple(out)",
            ]

        return (
            "\n".join(chooser("recommendations", recommendation_order)),
            "\n".join(chooser("referrals", referral_order)),
        )

    # Chunks: never split a group of outputs (its if/elif chain), only between them.
    out: list[str] = []
    prelude: list[str] = []
    # Each element of ``out`` is one top-level function, compiled on its own.
    for k in range(0, max(len(lines), 1), chunk * 3):
        part = lines[k : k + chunk * 3] or ["pass"]
        out.append("\n".join([f"def prelude_{k}(S, W, F, D):", *("    " + line for line in part)]))
        prelude.append(f"    prelude_{k}(states, W, F, D)")
    size = len(claims)
    for name, order in (("recommendations", recommendation_order), ("referrals", referral_order)):
        body = outputs(order)
        calls: list[str] = []
        start = 0
        while start < len(body):
            stop = min(start + chunk * 2, len(body))
            while stop < len(body) and body[stop].startswith("elif"):
                stop += 1
            head = f"def {name}_{start}(S, W, F, out, build):"
            out.append("\n".join([head, *("    " + line for line in body[start:stop])]))
            calls.append(f"    {name}_{start}(states, W, F, out, build)")
            start = stop
        out.append(
            "\n".join(
                [
                    f"def {name}(states, build):",
                    f"    W = [False] * {size}",
                    f"    F = [False] * {size}",
                    f"    D = [False] * {size}",
                    *prelude,
                    "    out = []",
                    *calls,
                    "    return tuple(out)",
                ]
            )
        )
    return tuple(out)


def load_decisions(code: Sequence[types.CodeType], templates: Mapping[int, object], source: str) -> Decisions:
    """Run compiled decision code with its templates and hand out its functions."""
    namespace: dict[str, object] = {"__builtins__": {"tuple": tuple}}
    namespace.update({ident(f"T{index}"): value for index, value in templates.items()})
    for part in code:
        exec(part, namespace)  # noqa: S102 - generated
    return Decisions(
        recommendations=namespace["recommendations"],  # type: ignore[arg-type]
        referrals=namespace["referrals"],  # type: ignore[arg-type]
        source=source,
    )
