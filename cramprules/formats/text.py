"""Built-in plugin: the plain-text report a person reads at a terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from cramprules.formats import DISCLAIMER, Audience, Section, heading, sections
from cramprules.hookspecs import hookimpl
from cramprules.report import Report

WIDTH = 78


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _section(section: Section, source_numbers: dict[str, int]) -> list[str]:
    lines = [section.title.upper() if section.key == "urgent" else section.title]
    lines.append("-" * len(lines[0]))
    for number, item in enumerate(section.items, 1):
        if section.key == "sources":
            first = f"[{number}] {item.text}"
            lines.extend(_wrap(first + (f" <{item.note}>" if item.note else ""), "  "))
            continue
        bullet = f"{number}. " if section.key == "questions" else ("! " if item.urgent else "* ")
        text = item.text
        if item.caveat:
            text += f" (only {item.caveat})" if item.caveat.startswith("unless") else f" ({item.caveat})"
        if section.key == "questions" and item.note:
            text += f" [{item.note}]"
        lines.extend(_wrap(text, "  " + bullet)[:1])
        lines.extend(_wrap(text, "  " + " " * len(bullet))[1:] if len(_wrap(text, "  " + bullet)) > 1 else [])
        if item.evidence:
            lines.extend(_wrap("because " + "; ".join(item.evidence), "    "))
        if item.note and section.key != "questions":
            cite = ""
            if item.sources:
                cite = " " + "".join(f"[{source_numbers[s.name]}]" for s in item.sources)
            lines.extend(_wrap(item.note + cite, "    "))
        elif item.sources and section.key != "questions":
            lines.extend(_wrap("".join(f"[{source_numbers[s.name]}]" for s in item.sources), "    "))
    return lines


def render(report: Report, *, audience: Audience = "patient") -> str:
    """Urgent referrals first, then causes, advice, questions and sources."""
    parts = sections(report, audience)
    source_numbers: dict[str, int] = {}
    for section in parts:
        if section.key == "sources":
            source_numbers = {item.rule or "": i for i, item in enumerate(section.items, 1)}
    lines = [heading(report), ""]
    if not any(s.key not in ("questions", "sources") for s in parts):
        lines += ["No recommendation yet: the facts given do not decide any rule.", ""]
    for section in parts:
        lines.extend(_section(section, source_numbers))
        lines.append("")
    lines.extend(_wrap(DISCLAIMER, ""))
    return "\n".join(lines) + "\n"


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"text": render}
