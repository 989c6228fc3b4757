"""Built-in plugin: the plain-text report a person reads at a terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from cramprules.formats import DISCLAIMER, NO_ADVICE, Audience, Item, Section, heading, sections
from cramprules.hookspecs import hookimpl
from cramprules.report import Report

__all__ = ["render"]

WIDTH = 78


def _wrap(text: str, first: str, rest: str | None = None) -> list[str]:
    """Wrap without breaking words or web addresses at their hyphens."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [first.rstrip()]


def _refs(item: Item, numbers: dict[str, int]) -> str:
    return "".join(f"[{numbers[s.name]}]" for s in item.sources if s.name in numbers)


def _section(section: Section, numbers: dict[str, int]) -> list[str]:
    title = section.title.upper() if section.key == "urgent" else section.title
    lines = [title, "-" * len(title)]
    items = section.items
    for position, item in enumerate(items):
        number = position + 1
        if section.key == "sources":
            label = f"[{number}] "
            text = item.text + (f" <{item.note}>" if item.note else "")
            lines.extend(_wrap(text, "  " + label, "  " + " " * len(label)))
            continue
        if section.key == "questions":
            bullet = f"{number}. "
            text = item.text + (f" ({item.note})" if item.note else "")
            lines.extend(_wrap(text, "  " + bullet, "  " + " " * len(bullet)))
            continue
        bullet = "! " if item.urgent else "* "
        lines.extend(_wrap(item.text, "  " + bullet, "    "))
        if item.caveat:
            lines.extend(_wrap(f"({item.caveat})", "    "))
        if item.evidence:
            lines.extend(_wrap("Because " + "; ".join(item.evidence) + ".", "    "))
        # Several items from one rule share its explanation: print it once, after the last.
        following = items[position + 1] if position + 1 < len(items) else None
        shared = following is not None and following.note == item.note and following.rule == item.rule
        if shared:
            continue
        explanation = " ".join(part for part in (item.note, _refs(item, numbers)) if part)
        if explanation:
            lines.extend(_wrap(explanation, "    "))
    return lines


def render(report: Report, *, audience: Audience = "patient") -> str:
    """Urgent referrals first, then causes, advice, questions and sources."""
    parts = sections(report, audience)
    numbers: dict[str, int] = {}
    for section in parts:
        if section.key == "sources":
            numbers = {item.rule or "": i for i, item in enumerate(section.items, 1)}
    lines = [heading(report), ""]
    if not any(s.key not in ("questions", "sources") for s in parts):
        lines += [NO_ADVICE, ""]
    for section in parts:
        lines.extend(_section(section, numbers))
        lines.append("")
    lines.extend(_wrap(DISCLAIMER, ""))
    return "\n".join(lines) + "\n"


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"text": render}
