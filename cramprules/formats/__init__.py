"""Built-in output formats, each a plugin offering ``cramprules_formats``.

The human formats (text, markdown, html) share one layout, built here, so
they always show the same sections in the same order: urgent referrals
first, then plain "see a doctor" referrals, then causes, advice by group,
what to avoid, the questions that would sharpen the answer, the sources, and
a note that this is not medical advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from cramprules.report import Cause, Recommendation, Referral, Report, Source

__all__ = ["DISCLAIMER", "NO_ADVICE", "Item", "Section", "referral_text", "sections"]

DISCLAIMER = (
    "This report is information, not medical advice: talk to a doctor or "
    "pharmacist before you start a supplement or if your symptoms worry you."
)

NO_ADVICE = "No advice yet: the answers so far do not decide any rule."
"""What the human formats say when nothing but questions remain."""

Audience = Literal["patient", "clinician"]


@attrs.frozen
class Item:
    """One line of a section, with what supports it."""

    text: str
    note: str | None = None
    sources: tuple[Source, ...] = ()
    caveat: str | None = None
    urgent: bool = False
    rule: str | None = None
    evidence: tuple[str, ...] = ()


@attrs.frozen
class Section:
    key: str
    title: str
    items: tuple[Item, ...]


def _note(because: str | None, detail: str | None, audience: Audience) -> str | None:
    if audience == "clinician" and detail:
        return detail
    return because or detail


def _answer(value: object, unit: str | None = None) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if unit and isinstance(value, (int, float)):
        return f"{value} {unit}"
    return str(value)


def _with_units(
    report: Report, evidence: tuple[str, ...], facts: tuple[tuple[str, object], ...]
) -> tuple[str, ...]:
    """The clinician's evidence with the unit beside each value of a fact that declares one."""
    specs = report.ruleset.facts
    out = []
    for text in evidence:
        for name, value in facts:
            unit = specs[name].unit if name in specs else None
            if unit and isinstance(value, (int, float)) and not isinstance(value, bool):
                text = text.replace(f"{name} is {value})", f"{name} is {value} {unit})")
                text = text.replace(f"{name} is {value},", f"{name} is {value} {unit},")
        out.append(text)
    return tuple(out)


def _evidence(report: Report, cause: Cause, audience: Audience) -> tuple[str, ...]:
    """What pointed to a cause: the DSL tests for a clinician, the person's
    own answers to the questions for a patient."""
    if audience == "clinician" or not cause.facts:
        return _with_units(report, cause.evidence, cause.facts)
    facts = report.ruleset.facts
    return tuple(
        f"you answered {_answer(value, facts[name].unit)} to \u201c{facts[name].prompt}\u201d"
        for name, value in cause.facts
    )


def referral_text(referral: Referral) -> str:
    """A referral in words.  Only an urgent one says so; ``emergency`` means
    emergency services, the top tier."""
    words = referral.to.replace("_", " ")
    if not referral.urgent:
        return f"See a {words}"
    if referral.to == "emergency":
        return "Get emergency help now: call the emergency number"
    return f"See a {words} urgently"


def _caveat(report: Report, outcome: Recommendation | Referral | Cause, audience: Audience) -> str | None:
    """Why advice is conditional.  A patient is told which open questions it
    depends on rather than shown the rules behind it."""
    if outcome.caveat is None or audience == "clinician" or not outcome.depends_on:
        return outcome.caveat
    facts = report.ruleset.facts
    return "depends on your answer to: " + " / ".join(facts[name].prompt for name in outcome.depends_on)


def sections(report: Report, audience: Audience = "patient") -> list[Section]:
    """The report's content in reading order, as plain data for a format."""
    program = report.ruleset.program
    out: list[Section] = []
    urgent = [r for r in report.referrals if r.urgent]
    other_referrals = [r for r in report.referrals if not r.urgent]
    if urgent:
        doctors_only = all(r.to == "doctor" for r in urgent)
        out.append(
            Section(
                "urgent",
                "See a doctor urgently" if doctors_only else "Get help urgently",
                tuple(
                    Item(
                        referral_text(r),
                        _note(r.because, r.detail, audience),
                        r.sources,
                        _caveat(report, r, audience),
                        urgent=True,
                        rule=r.rule,
                    )
                    for r in urgent
                ),
            )
        )
    # The referral tiers: urgent, then "see a doctor", then everything else.
    if other_referrals:
        out.append(
            Section(
                "referrals",
                "Who to see",
                tuple(
                    Item(
                        referral_text(r),
                        _note(r.because, r.detail, audience),
                        r.sources,
                        _caveat(report, r, audience),
                        rule=r.rule,
                    )
                    for r in other_referrals
                ),
            )
        )
    if report.causes:
        out.append(
            Section(
                "causes",
                "Likely causes",
                tuple(
                    Item(
                        c.label,
                        c.because,
                        c.sources,
                        _caveat(report, c, audience),
                        rule=c.rule,
                        evidence=_evidence(report, c, audience),
                    )
                    for c in report.causes
                ),
            )
        )
    positive = [r for r in report.recommendations if r.action != "avoid"]
    groups: dict[str | None, list[Item]] = {}
    for rec in positive:
        text = rec.label
        if rec.action == "prefer":
            labels = [program.options[o].label for o in rec.over if o in program.options]
            text += f", rather than {_lower_first(' or '.join(labels))}" if labels else " (preferred)"
        groups.setdefault(rec.group, []).append(
            Item(
                text,
                _note(rec.because, rec.detail, audience),
                rec.sources,
                _caveat(report, rec, audience),
                rule=rec.rule,
            )
        )
    for name, label in program.groups.items():
        if name in groups:
            out.append(Section(f"group:{name}", label, tuple(groups.pop(name))))
    if None in groups:
        out.append(Section("recommendations", "What to do", tuple(groups.pop(None))))
    avoid = [r for r in report.recommendations if r.action == "avoid"]
    if avoid:
        out.append(
            Section(
                "avoid",
                "Avoid",
                tuple(
                    Item(
                        r.label,
                        _note(r.because, r.detail, audience),
                        r.sources,
                        _caveat(report, r, audience),
                        rule=r.rule,
                    )
                    for r in avoid
                ),
            )
        )
    if report.questions:
        out.append(
            Section(
                "questions",
                "Questions that would sharpen this answer",
                tuple(
                    Item(q.prompt, _answer_hint(q.type, q.values, q.low, q.high, q.unit))
                    for q in report.questions
                ),
            )
        )
    cited = _cited(out)
    if cited:
        out.append(
            Section(
                "sources",
                "Sources",
                tuple(Item(s.label, s.url, rule=s.name) for s in cited),
            )
        )
    return out


def _lower_first(text: str) -> str:
    """``Magnesium glycinate`` -> ``magnesium glycinate``, but leave ``NSAIDs``."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[1:].islower():
        return text[:1].lower() + text[1:]
    return text


def _answer_hint(kind: str, values: Sequence[str], low: object, high: object, unit: str | None = None) -> str:
    if kind == "bool":
        return "yes/no"
    if kind == "enum":
        return "/".join(values)
    if low is not None and high is not None:
        return f"a number from {low} to {high}" + (f" {unit}, or with its unit" if unit else "")
    return "a number" + (f" in {unit}, or with its unit" if unit else "")


def _cited(sections_: list[Section]) -> list[Source]:
    seen: dict[str, Source] = {}
    for section in sections_:
        for item in section.items:
            for source in item.sources:
                seen.setdefault(source.name, source)
    return list(seen.values())


def heading(report: Report) -> str:
    ruleset = report.ruleset
    title = ruleset.title or ruleset.name
    version = f" {ruleset.version}" if ruleset.version else ""
    return f"{title} ({ruleset.name}{version})"
