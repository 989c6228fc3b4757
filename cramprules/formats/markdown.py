"""Built-in plugin: the report as Markdown, for issue trackers, wikis and chat.

It shows the sections of :func:`cramprules.formats.sections` in their order,
like the text report.  Every text from a ruleset is escaped, so a label or a
``because`` can never turn into markup, a link or raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cramprules.formats import DISCLAIMER, NO_ADVICE, Audience, Item, Section, heading, sections
from cramprules.hookspecs import hookimpl
from cramprules.report import Report

__all__ = ["escape", "render"]

_SPECIAL = re.compile(r"([\\`*\[\]<>|~&])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"\A([#>+=-]|\d+(?=[.)]))")
_SAFE_URL = re.compile(r"(https?://|mailto:)[^\s<>()\"']+\Z", re.IGNORECASE)


def escape(text: str) -> str:
    """Backslash-escape what Markdown would read as markup; newlines become spaces.

    Inline markup (emphasis, code, links, HTML, tables) is escaped everywhere;
    what starts a block (``#``, ``-``, ``1.``) only at the start of the text.
    """
    text = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    # An underscore inside a word never starts emphasis: leave ``leg_cramps`` readable.
    text = _UNDERSCORE.sub(r"\\_", text)
    match = _LINE_START.match(text)
    if match:
        return text[: match.end()] + "\\" + text[match.end() :] if match.group(1).isdigit() else "\\" + text
    return text


def _link(label: str, url: str | None) -> str:
    if url and _SAFE_URL.match(url):
        return f"[{escape(label)}](<{url}>)"
    if url:
        return f"{escape(label)} ({escape(url)})"
    return escape(label)


def _refs(item: Item, numbers: dict[str, int]) -> str:
    return "".join(f"\\[{numbers[s.name]}\\]" for s in item.sources if s.name in numbers)


def _shares_note(items: tuple[Item, ...], position: int) -> bool:
    """Whether the next item comes from the same rule with the same explanation."""
    following = items[position + 1] if position + 1 < len(items) else None
    item = items[position]
    return following is not None and following.note == item.note and following.rule == item.rule


def _item(section: Section, position: int, numbers: dict[str, int]) -> list[str]:
    item = section.items[position]
    index = position + 1
    if section.key == "sources":
        return [f"{index}. {_link(item.text, item.note)}"]
    if section.key == "questions":
        hint = f" ({escape(item.note)})" if item.note else ""
        return [f"{index}. {escape(item.text)}{hint}"]
    text = escape(item.text)
    lines = [f"- **{text}**" if item.urgent else f"- {text}"]
    if item.caveat:
        lines.append(f"  *({escape(item.caveat)})*")
    if item.evidence:
        lines.append(f"  Because {escape('; '.join(item.evidence))}.")
    if not _shares_note(section.items, position):
        explanation = " ".join(part for part in (escape(item.note or ""), _refs(item, numbers)) if part)
        if explanation:
            lines.append(f"  {explanation}")
    # Two trailing spaces make a hard line break inside the list item.
    return [line + "  " for line in lines[:-1]] + lines[-1:]


def render(report: Report, *, audience: Audience = "patient") -> str:
    """Urgent referrals first, then causes, advice, questions and sources."""
    parts = sections(report, audience)
    numbers: dict[str, int] = {}
    for section in parts:
        if section.key == "sources":
            numbers = {item.rule or "": i for i, item in enumerate(section.items, 1)}
    lines = [f"# {escape(heading(report))}", ""]
    if not any(s.key not in ("questions", "sources") for s in parts):
        lines += [NO_ADVICE, ""]
    for section in parts:
        title = escape(section.title)
        lines.append(f"## ⚠ {title}" if section.key == "urgent" else f"## {title}")
        lines.append("")
        for position in range(len(section.items)):
            lines.extend(_item(section, position, numbers))
        lines.append("")
    lines += ["---", "", f"*{escape(DISCLAIMER)}*"]
    return "\n".join(lines) + "\n"


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"markdown": render}
