"""``cramprules explain``: how each outcome was reached, why not, and what would change it.

MYCIN's "how" and "why not", tied to the ruleset's source lines: for every
outcome the rule, each condition with the fact values that decided it, the
``unless`` and how it was settled, the rules it beat; for pending and
conditional outcomes the smallest changes of facts that would flip them.

The explanation is built once as plain data (``--format json`` prints it)
and the text is rendered from that data, so the two never disagree.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any as AnyType

import click

from cramprules.cli import App, CliError
from cramprules.cli._common import (
    Painter,
    audience_option,
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

MAX_CHANGES = 3
"""The largest set of fact changes ``what would change it`` looks for."""


# ---------------------------------------------------------------- building the explanation


def _value_word(value: object) -> str:
    if value is None:
        return "unknown"
    return "true" if value else "false"


def _show(value: object) -> str:
    from cramprules.evaluator import describe_value

    return describe_value(value)


def _where(node: AnyType) -> str | None:
    span = getattr(node, "span", None)
    return f"{span.origin}:{span.line}" if span is not None else None


class Explainer:
    """Turns one report into explanation data."""

    def __init__(self, report: AnyType, audience: str = "patient") -> None:
        from cramprules import evaluator

        self.report = report
        self.ruleset = report.ruleset
        self.program = report.ruleset.program
        self.audience = audience
        self.env = evaluator.Env(
            dict(zip(self.program.facts, report.values)),
            evaluator.cause_values(self.program, report.states),
            self.ruleset.interpreter_functions,
        )
        self.resolution = evaluator.resolve(self.ruleset.claims, report.states)
        self.trace = {entry.rule: entry for entry in report.trace}
        self._what_if: dict[str, list[Data]] = {}

    # ------------------------------------------------------------ pieces

    def condition(self, node: AnyType) -> Data:
        """A condition, its value, and the tests (with fact values) that decided it."""
        from cramprules.evaluator import explain
        from cramprules.unparse import unparse

        value, atoms = explain(node, self.env)
        return {
            "text": unparse(node),
            "where": _where(node),
            "value": _value_word(value),
            "decided_by": [
                {
                    "test": atom.text,
                    "value": _value_word(atom.value),
                    "facts": {name: _show(v) for name, v in atom.facts},
                    "summary": str(atom),
                }
                for atom in atoms
            ],
        }

    def rule(self, rule: AnyType) -> Data:
        """A rule as the explanation shows it: where, its if and unless, why."""
        data: Data = {
            "name": rule.name,
            "where": f"{rule.origin}:{rule.line}" if rule.line is not None else rule.origin,
            "priority": rule.priority,
            "then": [str(action) for action in rule.actions],
            "if": self.condition(rule.condition),
            "unless": None,
            "note_kind": "because",
            "note": rule.because,
            "sources": [self._source(name) for name in rule.sources],
        }
        if rule.detail and (self.audience == "clinician" or not rule.because):
            data["note_kind"], data["note"] = "detail", rule.detail
        if rule.unless is not None:
            unless = self.condition(rule.unless)
            settled = {
                "false": "the exception does not apply",
                "true": "the exception holds and defeats the rule",
                "unknown": "the outcome is conditional: it stands unless this turns out true",
            }
            if self.trace[rule.name].outcome != "fired":
                settled["unknown"] = (
                    "not known either: should the rule apply, its outcome would be conditional"
                )
            unless["settled"] = settled[unless["value"]]
            data["unless"] = unless
        return data

    def _source(self, name: str) -> str:
        source = self.ruleset.source(name)
        return f"{source.label} <{source.url}>" if source.url else source.label

    def what_would_change(self, target: str) -> list[Data]:
        """The smallest sets of fact changes that flip the outcome for ``target``."""
        if target not in self._what_if:
            self._what_if[target] = self._search(target)
        return self._what_if[target]

    def would_make_stand(self, rule: AnyType, action: AnyType, budget: int = 20_000) -> list[Data]:
        """The smallest sets of fact changes after which this rule's ``action`` stands.

        Unlike ``report.what_would_change(target)``, which flips the outcome
        for a target by any rule, this asks for *this* rule: a red flag that
        another rule already raises does not count.
        """
        from cramprules.compiler import CONDITIONAL
        from cramprules.evaluator import changes, resolve

        ruleset, program = self.ruleset, self.program
        index = program.rules.index(rule)
        claims = [c.index for c in ruleset.claims if c.rule == index and c.action == action]
        facts = [n for n, spec in program.facts.items() if n in ruleset.used_facts and not spec.derived]
        values = dict(zip(program.facts, self.report.values))
        positions = {n: i for i, n in enumerate(program.facts)}
        spent = 0
        for size in range(1, MAX_CHANGES + 1):
            found: list[Data] = []
            for change in changes(facts, values, ruleset.candidates, size):
                spent += 1
                if spent > budget:
                    return found
                new_values = list(self.report.values)
                for fact, value in change:
                    new_values[positions[fact]] = value
                states = ruleset.compiled.decide(tuple(new_values))
                if states[index] > CONDITIONAL:
                    continue
                if claims and not set(claims) & set(resolve(ruleset.claims, states).shown):
                    continue
                found.append(
                    {
                        "changes": [{"fact": f, "from": _show(values[f]), "to": _show(v)} for f, v in change],
                        "before": "pending",
                        "after": str(action) + (" (conditional)" if states[index] == CONDITIONAL else ""),
                    }
                )
            if found:
                found.sort(key=lambda item: sum(c["from"] != "unknown" for c in item["changes"]))
                return found
        return []

    def _search(self, target: str) -> list[Data]:
        found = self.report.what_would_change(target, max_changes=MAX_CHANGES)
        return [
            {
                "changes": [
                    {"fact": c.fact, "from": _show(c.before), "to": _show(c.after)} for c in what.changes
                ],
                "before": what.before,
                "after": what.after,
            }
            for what in found
        ]

    def conflicts(self) -> list[Data]:
        """Every claim that lost to another, with the winner and the reason."""
        claims = self.ruleset.claims
        rules = self.program.rules
        out = []
        for loser, (winner, why) in sorted(self.resolution.lost.items()):
            lost, won = claims[loser], claims[winner]
            out.append(
                {
                    "rule": rules[lost.rule].name,
                    "where": f"{rules[lost.rule].origin}:{rules[lost.rule].line}",
                    "claim": str(lost.action),
                    "winner": rules[won.rule].name,
                    "winner_claim": str(won.action),
                    "winner_target": won.action.target,
                    "why": why,
                }
            )
        return out

    # ------------------------------------------------------------ the whole explanation

    def outcomes(self, conflicts: list[Data]) -> list[Data]:
        """Each outcome of the report, in the report's order (urgent referrals first)."""
        from cramprules.nodes import Action
        from cramprules.unparse import unparse

        report = self.report
        items: list[tuple[str, str, str, AnyType]] = []
        for referral in report.referrals:
            text = unparse(Action("refer", referral.to, urgent=referral.urgent))
            items.append(("refer", referral.to, text, referral))
        for cause in report.causes:
            items.append(("suspect", cause.name, unparse(Action("suspect", cause.name)), cause))
        for rec in report.recommendations:
            text = unparse(Action(rec.action, rec.option, over=rec.over))
            items.append((rec.action, rec.option, text, rec))
        out = []
        for kind, target, text, item in items:
            rule = self.program.rule(item.rule)
            data: Data = {
                "outcome": text,
                "kind": kind,
                "target": target,
                "label": getattr(item, "label", None),
                "urgent": bool(getattr(item, "urgent", False)),
                "status": item.status,
                "caveat": item.caveat,
                "rule": self.rule(rule),
                "beat": [
                    {"rule": c["rule"], "claim": c["claim"], "why": c["why"]}
                    for c in conflicts
                    if c["winner"] == rule.name and c["winner_target"] == target
                ],
                "what_would_change": self.what_would_change(target) if item.status == "conditional" else None,
            }
            out.append(data)
        return out

    def pending(self) -> list[Data]:
        """Rules that neither fired nor failed: the facts they need, and what would decide them."""
        out = []
        for rule in self.program.rules:
            if self.trace[rule.name].outcome != "pending":
                continue
            out.append(
                {
                    "outcome": ", ".join(str(action) for action in rule.actions),
                    "rule": self.rule(rule),
                    "what_would_change": {str(a): self.would_make_stand(rule, a) for a in rule.actions},
                }
            )
        return out

    def did_not_apply(self, conflicts: list[Data]) -> list[Data]:
        """Rules that lost a conflict, were defeated, overridden, or did not match."""
        lost_rules = {c["rule"] for c in conflicts}
        out = []
        for rule in self.program.rules:
            entry = self.trace[rule.name]
            if entry.outcome in ("fired", "pending") and rule.name not in lost_rules:
                continue
            out.append(
                {
                    "rule": rule.name,
                    "where": f"{rule.origin}:{rule.line}",
                    "outcome": "lost a conflict" if entry.outcome == "fired" else entry.outcome,
                    "reason": entry.reason,
                }
            )
        return out

    def explanation(self) -> Data:
        conflicts = self.conflicts()
        return {
            "ruleset": {
                "name": self.ruleset.name,
                "title": self.ruleset.title,
                "version": self.ruleset.version,
            },
            "audience": self.audience,
            "facts": {name: _show(value) for name, value in self.report.facts.items()},
            "outcomes": self.outcomes(conflicts),
            "pending": self.pending(),
            "conflicts": conflicts,
            "did_not_apply": self.did_not_apply(conflicts),
        }

    # ------------------------------------------------------------ why not

    def why_not(self, name: str) -> Data:
        """Why a rule (or the rules about an option, cause or referral) gave no outcome."""
        program = self.program
        rule_names = [r.name for r in program.rules]
        if name in rule_names:
            rules = [program.rule(name)]
            target = None
        elif name in program.options or name in program.causes or name in self.ruleset.referral_targets:
            rules = [r for r in program.rules if any(a.target == name for a in r.actions)]
            target = name
        else:
            from cramprules.names import closest

            known = [*rule_names, *program.options, *program.causes, *sorted(self.ruleset.referral_targets)]
            excluded = [r.name for r in program.excluded]
            if name in excluded:
                raise CliError(
                    f"rule '{name}' is left out of evaluation (its status is testing or retired); "
                    "use --include-testing for a testing rule"
                )
            guess = closest(name, known)
            hint = f"did you mean '{guess}'?" if guess else "it is not a rule, option, cause or referral"
            raise CliError(f"--why-not: ruleset '{self.ruleset.name}' has no '{name}'; {hint}")
        return {
            "name": name,
            "kind": "rule" if target is None else "outcome",
            "rules": [self._why_not_rule(rule) for rule in rules],
            "what_would_change": self.what_would_change(target) if target is not None else None,
        }

    def _why_not_rule(self, rule: AnyType) -> Data:
        entry = self.trace[rule.name]
        data = self.rule(rule)
        condition = data["if"]
        blocking = [d for d in condition["decided_by"] if d["value"] != "true"]
        data["outcome"] = entry.outcome
        data["reason"] = entry.reason
        data["first_blocker"] = blocking[0] if condition["value"] != "true" and blocking else None
        lost = [c for c in self.conflicts() if c["rule"] == rule.name]
        data["lost"] = lost
        if entry.outcome == "fired":
            data["verdict"] = (
                "it applied, but lost a conflict"
                if lost
                else "it applied" + (" (conditionally)" if entry.conditional else "")
            )
        elif entry.outcome == "not_matched":
            data["verdict"] = "a condition failed"
        elif entry.outcome == "pending":
            data["verdict"] = "a condition is unknown"
        elif entry.outcome == "defeated":
            data["verdict"] = "its condition held, but its exception (unless) held too"
        elif entry.outcome == "overridden":
            data["verdict"] = "it applied, but another rule overrode it or won the conflict"
        if entry.outcome != "fired" or data.get("lost"):
            data["what_would_change"] = {str(a): self.would_make_stand(rule, a) for a in rule.actions}
        else:
            data["what_would_change"] = {}
        return data


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
            self.add(f"{indent}{what}: no smallest change of up to {MAX_CHANGES} facts")
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
    ruleset, positional = split_positionals(engine, words)
    facts = gather_facts(engine, fact_args, facts_file, facts_format, positional=positional, what="explain")
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    report = rs.evaluate(facts)
    explainer = Explainer(report, audience)
    data = explainer.why_not(why_not) if why_not is not None else explainer.explanation()
    if format_name == "json":
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
        return
    paint = Painter(output in (None, "-") and color_enabled())
    writer = TextWriter(paint)
    text = writer.why_not(data) if why_not is not None else writer.explanation(data)
    write_output(text, output, color=paint.enabled or None)
