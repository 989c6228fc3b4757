"""The ``cds-hooks`` format: a report as CDS Hooks cards, for an electronic health record.

The output is a CDS Hooks service response, ``{"cards": [...]}``, one card per
item of the report, in the order of every other format (urgent first).  Each
card has the attributes of the CDS Hooks specification
(https://cds-hooks.hl7.org/): ``uuid``, ``summary`` (under 140 characters),
``indicator``, ``detail`` (GitHub Flavored Markdown, escaped so no ruleset
text becomes markup or HTML) and ``source`` (``label`` and, when the rule
cites one, an https ``url``).

Indicators: an urgent referral is ``critical``; a referral or something to
avoid is ``warning``; causes, advice and the open questions are ``info``.
The ``uuid`` is derived from the ruleset and the card, so the same report
gives byte-identical output.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Literal

from cramprules.formats import Item, Section, sections
from cramprules.formats.markdown import escape

if TYPE_CHECKING:
    from cramprules.report import Report, Source

__all__ = ["INDICATORS", "MAX_SUMMARY", "cards", "render"]

MAX_SUMMARY = 139
"""The specification asks for a summary of fewer than 140 characters."""

INDICATORS: dict[str, Literal["info", "warning", "critical"]] = {
    "urgent": "critical",
    "referrals": "warning",
    "avoid": "warning",
}
"""Indicator by report section; any other section is ``info``."""

_NAMESPACE = uuid.UUID("5b0a3f3e-8f1e-4e43-9a57-6c1b2d0c7a11")
_SAFE_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


def _source(item_sources: tuple[Source, ...], report: Report) -> dict[str, str]:
    for source in item_sources:
        out = {"label": source.label}
        if source.url and _SAFE_URL.match(source.url):
            out["url"] = source.url
        return out
    ruleset = report.ruleset
    version = f" {ruleset.version}" if ruleset.version else ""
    return {"label": f"cramprules: {ruleset.title or ruleset.name}{version}"}


def _detail(item: Item, report: Report) -> str:
    parts = []
    if item.note:
        parts.append(escape(item.note))
    if item.caveat:
        parts.append(f"*({escape(item.caveat)})*")
    if item.evidence:
        parts.append(f"**Because** {escape('; '.join(item.evidence))}.")
    cited = []
    for source in item.sources:
        if source.url and _SAFE_URL.match(source.url):
            cited.append(f"[{escape(source.label)}](<{source.url}>)")
        else:
            cited.append(escape(source.label))
    if cited:
        parts.append("**Sources:** " + "; ".join(cited))
    if item.rule:
        ruleset = report.ruleset
        version = f" {ruleset.version.replace('`', '')}" if ruleset.version else ""
        parts.append(f"*Rule `{item.rule}` of ruleset `{ruleset.name}{version}`.*")
    return "\n\n".join(parts)


def _summary_text(section: Section, item: Item) -> str:
    """The item, with what its section says about it: "Avoid: ...", "What to take: ..."."""
    if section.key in ("urgent", "referrals"):
        text = item.text
    elif section.key == "causes":
        text = f"Possible cause: {item.text}"
    elif item.text.lower().startswith(section.title.lower()):
        text = item.text
    else:
        text = f"{section.title}: {item.text}"
    return f"{text} ({item.caveat})" if item.caveat else text


def _questions_card(section: Section, report: Report) -> dict[str, object]:
    count = len(section.items)
    prompts = [
        f"{i}. {escape(q.text)}" + (f" ({escape(q.note)})" if q.note else "")
        for i, q in enumerate(section.items, 1)
    ]
    return {
        "summary": _summary(
            f"{count} unanswered question{'s' if count != 1 else ''} could change this advice"
        ),
        "indicator": "info",
        "detail": "\n".join(prompts),
        "source": _source((), report),
    }


def _item_card(section: Section, item: Item, report: Report) -> dict[str, object]:
    return {
        "summary": _summary(_summary_text(section, item)),
        "indicator": INDICATORS.get(section.key, "info"),
        "detail": _detail(item, report),
        "source": _source(item.sources, report),
    }


def cards(
    report: Report, *, audience: Literal["patient", "clinician"] = "clinician"
) -> list[dict[str, object]]:
    """The cards, as JSON-ready dicts, urgent first; each item of the report is a card."""
    # The uuid depends on the ruleset, the facts and the card: stable, and distinct per patient.
    context = f"{report.ruleset.sha256}:{json.dumps(report.facts, sort_keys=True, default=str)}"
    out: list[dict[str, object]] = []
    for section in sections(report, audience):
        if section.key == "sources":
            continue  # each card carries its own sources
        if section.key == "questions":
            made = [_questions_card(section, report)]
        else:
            made = [_item_card(section, item, report) for item in section.items]
        for card in made:
            key = f"{context}:{len(out)}:{json.dumps(card, sort_keys=True)}"
            out.append({"uuid": str(uuid.uuid5(_NAMESPACE, key)), **card})
    return out


def render(report: Report, *, audience: Literal["patient", "clinician"] = "clinician") -> str:
    """A CDS Hooks response body: ``{"cards": [...]}`` as indented JSON."""
    return json.dumps({"cards": cards(report, audience=audience)}, indent=2, ensure_ascii=False) + "\n"
