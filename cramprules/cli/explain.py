"""``cramprules explain``: how each outcome was reached, why not, and what would change it.

The explanation is built by the library (:mod:`cramprules.explain`); this
command renders it: ``--format json`` prints its ``to_dict()``, and the text
is rendered from that same data, so the two never disagree.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any as AnyType

import click

from cramprules import explain
from cramprules.cli import App, CliError
from cramprules.cli._common import (
    Painter,
    audience_option,
    check_output,
    choice_format_option,
    color_enabled,
    fact_options,
    gather_facts,
    output_option,
    split_positionals,
    testing_option,
    write_output,
)

Data = dict[str, AnyType]

WIDTH = 78
"""Explanatory prose is wrapped to this width; source locations never are."""


# ---------------------------------------------------------------- text


class TextWriter:
    """Renders explanation data as text a person reads, with colour on a terminal."""

    def __init__(self, paint: Painter) -> None:
        self.paint = paint
        self.lines: list[str] = []

    def heading(self, title: str) -> None:
        self.lines += [self.paint(title, bold=True), "-" * len(title)]

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def condition(self, keyword: str, data: Data, indent: str) -> None:
        where = f"  [{data['where']}]" if data.get("where") else ""
        self.add(f"{indent}{keyword} {data['text']}{where}")
        decided = ", ".join(d["summary"] for d in data["decided_by"]) or data["text"]
        verdict = self._value(data["value"])
        self.add(f"{indent}  {verdict}: {decided}")
        if "settled" in data:
            self.add(f"{indent}  so {data['settled']}")

    def _value(self, word: str) -> str:
        colour = {"true": "green", "false": "red", "unknown": "yellow"}[word]
        return self.paint(word, fg=colour)

    def rule(self, data: Data, indent: str = "  ") -> None:
        priority = f", priority {data['priority']}" if data["priority"] else ""
        self.add(f"{indent}rule {data['name']} ({data['where']}{priority})")
        self.condition("if", data["if"], indent)
        if data["unless"] is not None:
            self.condition("unless", data["unless"], indent)
        if data["note"]:
            note = f"{data['note_kind']}: {data['note']}"
            self.lines += textwrap.wrap(note, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")
        for source in data["sources"]:
            self.add(f"{indent}source: {source}")

    def changes(self, found: list[Data] | None, indent: str, what: str = "what would change it") -> None:
        if found is None:
            return
        if not found:
            self.add(f"{indent}{what}: no smallest change of up to {explain.MAX_CHANGES} facts")
            return
        self.add(f"{indent}{what}:")
        for item in found:
            changes = ", ".join(f"{c['fact']}: {c['from']} -> {c['to']}" for c in item["changes"])
            self.add(f"{indent}  - {changes}  =>  {item['after']}")

    def outcome(self, data: Data) -> None:
        status = f"  ({data['status']})" if data["status"] == "conditional" else ""
        title = data["outcome"] + (f": {data['label']}" if data.get("label") else "")
        style: dict[str, AnyType] = {"bold": True}
        if data["urgent"]:
            style["fg"] = "red"
        self.add(self.paint(title, **style) + self.paint(status, fg="yellow"))
        self.rule(data["rule"])
        unless = data["rule"]["unless"]
        shown = f"unless {unless['text']}" if unless is not None else None
        for part in (data["caveat"] or "").split("; "):
            if part and part != shown:
                self.add(f"  caveat: holds only {part}")
        for beaten in data["beat"]:
            self.add(f"  won over rule {beaten['rule']} ('{beaten['claim']}'): {beaten['why']}")
        self.changes(data["what_would_change"], "  ")
        self.add()

    def explanation(self, data: Data) -> str:
        rs = data["ruleset"]
        version = f" {rs['version']}" if rs["version"] else ""
        self.add(f"{rs['title'] or rs['name']} ({rs['name']}{version}): how the outcome was reached")
        given = ", ".join(f"{k} = {v}" for k, v in data["facts"].items()) or "none"
        self.add(f"Facts given: {given}")
        self.add()
        self.heading("Outcomes")
        if not data["outcomes"]:
            self.add("No outcome: the facts given do not decide any rule.")
            self.add()
        for outcome in data["outcomes"]:
            self.outcome(outcome)
        if data["pending"]:
            self.heading("Pending: more facts would decide these")
            for item in data["pending"]:
                self.add(self.paint(item["outcome"], bold=True) + self.paint("  (pending)", fg="yellow"))
                self.rule(item["rule"])
                for claim, found in item["what_would_change"].items():
                    self.changes(found, "  ", f"what would make '{claim}' stand")
                self.add()
        if data["did_not_apply"]:
            self.heading("Rules that gave no outcome")
            for item in data["did_not_apply"]:
                self.add(f"  {item['rule']} ({item['where']}): {item['outcome'].replace('_', ' ')}")
                self.add(f"    {item['reason']}")
            self.add()
        return "\n".join(self.lines) + "\n"

    def why_not(self, data: Data) -> str:
        name = data["name"]
        self.add(self.paint(f"Why not {name}?", bold=True))
        if data["kind"] == "outcome":
            if not data["rules"]:
                self.add(f"  No rule concludes anything about {name}.")
            else:
                self.add(f"  Rules about {name}: {', '.join(r['name'] for r in data['rules'])}")
            self.changes(data["what_would_change"], "  ", f"what would change {name}")
        for rule in data["rules"]:
            self.add()
            self.add(f"rule {rule['name']}: {rule['outcome'].replace('_', ' ')}: {rule['verdict']}")
            blocker = rule["first_blocker"]
            if blocker is not None:
                word = "failed" if blocker["value"] == "false" else "stayed unknown"
                self.add(f"  first condition that {word}: {blocker['summary']}")
            self.rule(rule)
            for lost in rule.get("lost", ()):
                self.add(
                    f"  '{lost['claim']}' lost to rule {lost['winner']} ('{lost['winner_claim']}'): {lost['why']}"
                )
            if rule["outcome"] == "overridden" and not rule["lost"]:
                self.add(f"  {rule['reason']}")
            for claim, found in rule["what_would_change"].items():
                self.changes(found, "  ", f"what would make '{claim}' stand")
        return "\n".join(self.lines) + "\n"


# ---------------------------------------------------------------- the command


@click.command("explain")
@click.argument("words", nargs=-1, metavar="[RULESET] [FACTS]...")
@fact_options
@click.option(
    "--why-not",
    "why_not",
    metavar="RULE",
    help="Why a rule (or an option, cause or referral) gave no outcome: the first condition that failed.",
)
@audience_option
@testing_option
@choice_format_option(["text", "json"], "text for people, json for tools.")
@output_option
@click.pass_obj
def command(
    app: App,
    words: tuple[str, ...],
    fact_args: tuple[str, ...],
    facts_file: str | None,
    facts_format: str | None,
    why_not: str | None,
    audience: str,
    include_testing: bool,
    format_name: str,
    output: str | None,
) -> None:
    """Explain how each outcome was reached, and what would change it.

    For every outcome: the rule and where it is, each condition with the
    fact values that decided it, the 'unless' and how it was settled, and the
    rules it beat.  For conditional and pending outcomes: the smallest
    changes of facts that would flip them.  --why-not RULE shows the first
    condition of RULE that failed or stayed unknown.

    FACTS are NAME=VALUE (or NAME for yes), like --fact.  A first word that
    is a .cramp file or a ruleset's name is the RULESET.

    \b
    Examples:
      cramprules explain constipation long_term
      cramprules explain --fact pain=9 --audience clinician
      cramprules explain constipation long_term bedtime=yes --why-not citrate_for_constipation
      cramprules explain clinic.cramp --facts patient.json --format json
    """
    engine = app.engine
    check_output(output)
    ruleset, positional = split_positionals(engine, words)
    facts = gather_facts(engine, fact_args, facts_file, facts_format, positional=positional, what="explain")
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    report = rs.evaluate(facts)
    if why_not is not None:
        try:
            data = explain.why_not(report, why_not, audience=audience).to_dict()
        except explain.UnknownName as exc:
            raise CliError(f"error: {exc}" if exc.excluded else f"error: --why-not: {exc}") from None
    else:
        data = explain.explain(report, audience=audience).to_dict()
    if format_name == "json":
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
        return
    paint = Painter(output in (None, "-") and color_enabled())
    writer = TextWriter(paint)
    text = writer.why_not(data) if why_not is not None else writer.explanation(data)
    write_output(text, output, color=paint.enabled or None)
