"""Which claims stand, as generated code: the fast path from rule states to advice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from cramprules.claims import ClaimSpec
from cramprules.compiler._deciders import FIRED, NOT_MATCHED, PENDING, ident

__all__ = ["Decisions", "compile_decisions"]


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
) -> Decisions:
    """Generate the conflict resolution of :func:`cramprules.claims.resolve`.

    ``claims`` are :class:`~cramprules.claims.ClaimSpec` in resolution
    order; the orders list claim indices as reports show them; ``templates``
    are the finished values of claims whose rule fired.
    """
    beaters = {w for c in claims for w, _ in c.beaten_by}
    beaten = {c.index for c in claims if c.beaten_by}
    needed = beaters | beaten
    lines: list[str] = []

    def active(index: int) -> str:
        return f"s{claims[index].rule} < {NOT_MATCHED - 1}"

    def standing(index: int) -> str:
        return f"w{index}" if index in needed else f"({active(index)})"

    def sure(index: int) -> str:
        """Stands, and no answer to an open question can remove it."""
        return f"f{index}" if index in needed else f"s{claims[index].rule} == {FIRED}"

    # w: the claim stands; f: it stands for sure; d: it can never stand (its
    # rule cannot apply, or a sure claim beats it).  Beaters come first.
    for claim in claims:
        i, rule = claim.index, claim.rule
        if i not in needed:
            continue
        winners = [w for w, _ in claim.beaten_by]
        if winners:
            lines.append(f"w{i} = {active(i)} and not ({' or '.join(f'w{w}' for w in winners)})")
            lines.append(f"f{i} = w{i} and s{rule} == {FIRED} and {' and '.join(f'd{w}' for w in winners)}")
        else:
            lines.append(f"w{i} = {active(i)}")
            lines.append(f"f{i} = w{i} and s{rule} == {FIRED}")
        if i in beaters:
            killers = "".join(f" or f{w}" for w in winners)
            lines.append(f"d{i} = s{rule} > {PENDING}{killers}")

    unpack = ", ".join(f"s{i}" for i in range(rule_count)) + ("," if rule_count == 1 else "")

    def chooser(name: str, order: Sequence[int]) -> list[str]:
        body = [f"def {name}(states, build):", f"    ({unpack}) = states", *("    " + line for line in lines)]
        body.append("    out = []")

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
        for group in groups.values():
            if len(group) == 1:
                (member,) = group
                value = f"T{member} if {sure(member)} else build({member})"
                body.append(f"    if {standing(member)}: out.append({value})")
                continue
            # Several rules give the same advice: a plain one beats a conditional one.
            keyword = "if"
            for member in group:
                body.append(f"    {keyword} {sure(member)}: out.append(T{member})")
                keyword = "elif"
            for member in group:
                body.append(f"    elif {standing(member)}: out.append(build({member}))")
        body.append("    return tuple(out)")
        return body

    if rule_count == 0:
        source = "def recommendations(states, build):\n    return ()\n\ndef referrals(states, build):\n    return ()\n"
    else:
        source = "\n".join(
            [*chooser("recommendations", recommendation_order), "", *chooser("referrals", referral_order), ""]
        )
    namespace: dict[str, object] = {"__builtins__": {"tuple": tuple}}
    namespace.update({ident(f"T{index}"): value for index, value in templates.items()})
    exec(compile(source, "<cramprules decisions>", "exec"), namespace)  # noqa: S102 - generated
    return Decisions(
        recommendations=namespace["recommendations"],  # type: ignore[arg-type]
        referrals=namespace["referrals"],  # type: ignore[arg-type]
        source=source,
    )
