"""``cramprules ask``: a consultation that asks only the questions that matter.

Prompts go to stderr and the report to stdout, so a scripted consultation
(``cramprules ask --format json < answers.txt > report.json``) yields clean
output.  End of input ends the consultation with the report so far.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO
from typing import Any as AnyType

import click

from cramprules.cli import App
from cramprules.cli._common import (
    Painter,
    audience_option,
    check_format,
    check_output,
    color_enabled,
    fact_options,
    format_option,
    gather_facts,
    is_terminal,
    output_option,
    paint_text_report,
    ruleset_argument,
    testing_option,
    write_output,
)
from cramprules.whatif import visible

DONT_KNOW = frozenset({"", "?", "??", "don't know", "dont know", "idk", "unknown", "not sure", "skip"})
"""Answers that leave a fact unknown; it is not asked again."""

WHY = frozenset({"why", "why?"})

if TYPE_CHECKING:
    from cramprules.report import Report


def answer_hint(question: AnyType) -> str:
    """The answers a question takes, in the words a person types."""
    if question.type == "bool":
        allowed = "yes/no"
    elif question.type == "enum":
        allowed = "/".join(question.values)
    elif question.low is not None and question.high is not None:
        allowed = f"{question.low}-{question.high}"
    else:
        allowed = "a number"
    if question.unit:
        allowed += f" {question.unit}"
    return allowed


def changes_outcome(report: Report, fact: str) -> bool:
    """Whether some answer for ``fact`` changes what the person sees.

    ``report.questions`` lists every unknown fact that would decide an open
    rule; a consultation asks only those whose answer shows: a referral, a
    cause or a recommendation that appears, goes, or stops being conditional.
    """
    ruleset = report.ruleset
    position = list(ruleset.program.facts).index(fact)
    base = visible(ruleset, report.states)
    for candidate in ruleset.candidates[fact]:
        values = (*report.values[:position], candidate, *report.values[position + 1 :])
        if visible(ruleset, ruleset.compiled.decide(values)) != base:
            return True
    return False


class Consultation:
    """Asks the most decisive open question until none is left or the input ends."""

    def __init__(self, ruleset: AnyType, facts: dict[str, object], stdin: TextIO, out: TextIO) -> None:
        self.ruleset = ruleset
        self.facts = dict(facts)
        self.stdin = stdin
        self.out = out
        self.echo_answers = not is_terminal(stdin)
        self.paint = Painter(color_enabled(out))
        self.unknown: list[str] = []
        self.answered: list[str] = []
        self.ended = False

    def say(self, text: str = "", nl: bool = True) -> None:
        click.echo(text, file=self.out, nl=nl, color=self.paint.enabled or None)

    def run(self) -> AnyType:
        """The final report, after as many questions as matter."""
        report = self.ruleset.evaluate(self.facts)
        title = self.ruleset.title or self.ruleset.name
        self.say(self.paint(f"{title}: a consultation", bold=True))
        self.say("Answer each question; '?' if you don't know, 'why' to see why it is asked.")
        self.say("End of input (Ctrl-D) stops and shows the report so far.")
        while not self.ended:
            open_questions = [
                q for q in report.questions if q.fact not in self.unknown and changes_outcome(report, q.fact)
            ]
            if not open_questions:
                break
            report = self.ask(open_questions[0], report)
        left = "; stopped at end of input" if self.ended else ""
        self.say(f"\n{len(self.answered)} answered, {len(self.unknown)} not known{left}.\n")
        return report

    def ask(self, question: AnyType, report: AnyType) -> AnyType:
        """Ask one question until it gets a valid answer; the report after it."""
        number = len(self.answered) + len(self.unknown) + 1
        while True:
            self.say(
                f"{number}. " + self.paint(question.prompt, bold=True) + f" [{answer_hint(question)} or ?] ",
                nl=False,
            )
            self.out.flush()
            line = self.stdin.readline(MAX_ANSWER + 1)
            if not line:
                self.say()
                self.ended = True
                return report
            if len(line) > MAX_ANSWER and not line.endswith("\n"):
                while (rest := self.stdin.readline(MAX_ANSWER)) and not rest.endswith("\n"):
                    pass  # an endless line is skipped in bounded pieces, never held whole
                self.say(f"   That answer is longer than {MAX_ANSWER:,} characters; please answer again.")
                continue
            text = line.strip()
            if self.echo_answers:
                self.say(text)
            word = text.lower()
            if word in WHY:
                self.why(question)
                continue
            if word in DONT_KNOW:
                self.unknown.append(question.fact)
                return report
            value: object = text
            if question.type == "enum" and text.isdigit() and 1 <= int(text) <= len(question.values):
                value = question.values[int(text) - 1]
            from cramprules.exceptions import FactError

            try:
                new = self.ruleset.evaluate({**self.facts, question.fact: value})
            except FactError as exc:
                self.say(self.paint(f"   {exc}", fg="red"))
                self.say(f"   Please answer {answer_hint(question)}, or ? if you don't know.")
                continue
            coerced = new.facts.get(question.fact)
            if coerced is None:  # an answer the ruleset reads as unknown ("none", "null")
                self.unknown.append(question.fact)
                return report
            self.facts[question.fact] = coerced
            self.answered.append(question.fact)
            return new

    def why(self, question: AnyType) -> None:
        """MYCIN's WHY: the rules this answer decides."""
        from cramprules.unparse import unparse

        for name in question.affects:
            rule = self.ruleset.program.rule(name)
            where = f" ({rule.origin}:{rule.line})" if rule.line is not None else ""
            actions = " and ".join(unparse(a) for a in rule.actions)
            self.say(f"   It decides rule {name}{where}: if {unparse(rule.condition)} then {actions}")

    def answers(self, report: AnyType) -> dict[str, object]:
        """Every fact given or answered, coerced, and ``null`` for each "don't know"."""
        saved: dict[str, object] = dict(report.facts)
        for fact in self.unknown:
            saved.setdefault(fact, None)
        return saved


MAX_ANSWER = 10_000
"""The longest answer read from one line of stdin, in characters."""


@click.command("ask")
@ruleset_argument
@fact_options
@format_option()
@audience_option
@testing_option
@output_option
@click.option(
    "--answers",
    "answers_file",
    metavar="FILE",
    help="Save the facts given and answered as JSON, to replay with 'eval --facts FILE'.",
)
@click.pass_obj
def command(
    app: App,
    ruleset: str | None,
    fact_args: tuple[str, ...],
    facts_file: str | None,
    facts_format: str | None,
    format_name: str,
    audience: str,
    include_testing: bool,
    output: str | None,
    answers_file: str | None,
) -> None:
    """A consultation: asks only the questions whose answers can change the outcome.

    Most decisive first (anything that could mean "see a doctor" comes
    first).  Answer yes/no, a number, one of the listed values (or its
    number), or '?' / nothing for "don't know": that fact is not asked
    again.  'why' shows the rules a question decides.  An invalid answer is
    asked again, with the answers allowed.

    Questions go to stderr, the report to stdout, so it can be scripted:
    one answer per line on stdin; end of input ends the consultation with
    the report so far.

    \b
    Examples:
      cramprules ask
      cramprules ask --fact pain=3 --answers me.json
      printf 'yes\\nno\\n?\\n' | cramprules ask --format json > report.json
      cramprules eval --facts me.json      # replay the saved answers
    """
    if facts_file == "-":
        raise click.BadParameter(
            "the answers come from stdin; give the facts in a file", param_hint="--facts"
        )
    if answers_file == "-":
        raise click.BadParameter(
            "stdout holds the report; save the answers to a file", param_hint="--answers"
        )
    engine = app.engine
    check_format(engine, format_name)
    check_output(answers_file)  # before any question: answers that cannot be saved are lost
    check_output(output)
    facts = gather_facts(engine, fact_args, facts_file, facts_format, what="ask")
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    consultation = Consultation(rs, facts, sys.stdin, sys.stderr)
    report = consultation.run()
    if answers_file is not None:
        saved = consultation.answers(report)
        write_output(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", answers_file)
    text = engine.render(report, format_name, audience=audience)
    paint = Painter(output in (None, "-") and format_name == "text" and color_enabled())
    write_output(paint_text_report(text, paint), output, color=paint.enabled or None)
