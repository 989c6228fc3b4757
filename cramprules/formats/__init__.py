"""Built-in output formats, each a plugin offering ``cramprules_formats``.

The human formats (text, markdown, html) share one layout, built here, so
they always show the same sections in the same order: urgent referrals
first, then causes, advice by group, what to avoid, the questions that would
sharpen the answer, the sources, and a note that this is not medical advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from cramprules.report import Report, Source

__all__ = ["DISCLAIMER", "Item", "Section", "sections"]

DISCLAIMER = (
    "This report is information, not medical advice: talk to a doctor or "
    "pharmacist before you start a supplement or if your symptoms worry you."
)

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


def sections(report: Report, audience: Audience = "patient") -> list[Section]:
    """The report's content in reading order, as plain data for a format."""
    program = report.ruleset.program
    out: list[Section] = []
    urgent = [r for r in report.referrals if r.urgent]
    other_referrals = [r for r in report.referrals if not r.urgent]
    if urgent:
        out.append(
            Section(
                "urgent",
                "See a doctor urgently",
                tuple(
                    Item(
                        f"See a {r.to} urgently" if r.to.isalpha() else f"See {r.to} urgently",
                        _note(r.because, r.detail, audience),
                        r.sources,
                        r.caveat,
                        urgent=True,
                        rule=r.rule,
                    )
                    for r in urgent
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
                        c.caveat,
                        rule=c.rule,
                        evidence=c.evidence,
                    )
                    for c in report.causes
                ),
            )
        )
    if other_referrals:
        out.append(
            Section(
                "referrals",
                "Who to see",
                tuple(
                    Item(
                        f"See a {r.to}",
                        _note(r.because, r.detail, audience),
                        r.sources,
                        r.caveat,
                        rule=r.rule,
                    )
                    for r in other_referrals
                ),
            )
        )
    positive = [r for r in report.recommendations if r.action != "avoid"]
    groups: dict[str | None, list[Item]] = {}
    for rec in positive:
        verb = "Prefer" if rec.action == "prefer" else "Try"
        text = f"{verb} {rec.label}"
        if rec.over:
            labels = [program.options[o].label for o in rec.over if o in program.options]
            text += " over " + ", ".join(labels)
        groups.setdefault(rec.group, []).append(
            Item(text, _note(rec.because, rec.detail, audience), rec.sources, rec.caveat, rule=rec.rule)
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
                        f"Avoid {r.label}",
                        _note(r.because, r.detail, audience),
                        r.sources,
                        r.caveat,
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
                    Item(q.prompt, _answer_hint(q.type, q.values, q.low, q.high)) for q in report.questions
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


def _answer_hint(kind: str, values: Sequence[str], low: object, high: object) -> str:
    if kind == "bool":
        return "yes / no"
    if kind == "enum":
        return " / ".join(values)
    if low is not None and high is not None:
        return f"a number from {low} to {high}"
    return "a number"


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
