"""Built-in plugin: the report as one self-contained HTML page.

The page has its style inline and loads nothing: no scripts, fonts, images or
style sheets, and a Content-Security-Policy that forbids them, so it can be
mailed, saved or shown offline.  Every text is escaped with
:func:`html.escape`; only ``http``, ``https`` and ``mailto`` addresses become
links.  It shows the sections of :func:`cramprules.formats.sections` in their
order, the urgent one first and impossible to miss.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from cramprules.formats import DISCLAIMER, NO_ADVICE, Audience, Item, Section, heading, sections
from cramprules.hookspecs import hookimpl
from cramprules.report import Report

__all__ = ["render"]

_SAFE_URL = re.compile(r"(https?://|mailto:)\S+\Z", re.IGNORECASE)

STYLE = """
:root { color-scheme: light dark; --urgent: #b00020; --muted: #5f6368; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
ul, ol { padding-left: 1.4rem; }
li { margin: 0.4rem 0; }
.note, .evidence { display: block; color: var(--muted); }
.caveat { font-style: italic; }
.refs { font-size: 0.85em; vertical-align: super; }
.urgent { border: 3px solid var(--urgent); border-radius: 8px; padding: 0.5rem 1rem;
          background: color-mix(in srgb, var(--urgent) 10%, transparent); }
.urgent h2 { color: var(--urgent); margin-top: 0.5rem; text-transform: uppercase; }
.urgent li { font-weight: 600; }
.urgent .note { color: inherit; font-weight: normal; }
footer { margin-top: 2rem; border-top: 1px solid var(--muted); color: var(--muted);
         font-size: 0.9rem; }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _link(label: str, url: str | None) -> str:
    if url and _SAFE_URL.match(url):
        return f'<a href="{_e(url)}" rel="noreferrer noopener">{_e(label)}</a>'
    if url:
        return f'{_e(label)} <span class="url">{_e(url)}</span>'
    return _e(label)


def _refs(item: Item, numbers: dict[str, int]) -> str:
    refs = [numbers[s.name] for s in item.sources if s.name in numbers]
    if not refs:
        return ""
    links = "".join(f'<a href="#source-{n}">[{n}]</a>' for n in refs)
    return f' <span class="refs">{links}</span>'


def _item(section: Section, position: int, numbers: dict[str, int]) -> str:
    item = section.items[position]
    if section.key == "sources":
        return f'<li id="source-{position + 1}">{_link(item.text, item.note)}</li>'
    if section.key == "questions":
        hint = f' <span class="hint">({_e(item.note)})</span>' if item.note else ""
        return f"<li>{_e(item.text)}{hint}</li>"
    parts = [f'<span class="what">{_e(item.text)}</span>']
    if item.caveat:
        parts.append(f' <span class="caveat">({_e(item.caveat)})</span>')
    if item.evidence:
        parts.append(f'<span class="evidence">Because {_e("; ".join(item.evidence))}.</span>')
    following = section.items[position + 1] if position + 1 < len(section.items) else None
    shared = following is not None and following.note == item.note and following.rule == item.rule
    refs = _refs(item, numbers)
    if not shared and item.note:
        parts.append(f'<span class="note">{_e(item.note)}{refs}</span>')
    elif not shared and refs:
        parts.append(refs)
    return f"<li>{''.join(parts)}</li>"


def _section(section: Section, numbers: dict[str, int]) -> list[str]:
    key = re.sub(r"[^a-z0-9_-]", "-", section.key.lower())
    urgent = section.key == "urgent"
    attributes = f' id="{_e(key)}" class="{"urgent" if urgent else _e(key)}"'
    if urgent:
        attributes += ' role="alert"'
    tag = "ol" if section.key in ("questions", "sources") else "ul"
    lines = [f"<section{attributes}>", f"<h2>{'⚠ ' if urgent else ''}{_e(section.title)}</h2>", f"<{tag}>"]
    lines += [_item(section, position, numbers) for position in range(len(section.items))]
    lines += [f"</{tag}>", "</section>"]
    return lines


def render(report: Report, *, audience: Audience = "patient") -> str:
    """A complete HTML document: urgent referrals first, then the other sections."""
    parts = sections(report, audience)
    numbers: dict[str, int] = {}
    for section in parts:
        if section.key == "sources":
            numbers = {item.rule or "": i for i, item in enumerate(section.items, 1)}
    title = heading(report)
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="cramprules">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<header><h1>{_e(title)}</h1></header>",
    ]
    if not any(s.key not in ("questions", "sources") for s in parts):
        lines.append(f'<p class="empty">{_e(NO_ADVICE)}</p>')
    for section in parts:
        lines += _section(section, numbers)
    lines += [
        f'<footer><p class="disclaimer">{_e(DISCLAIMER)}</p></footer>',
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"html": render}
