"""``cramprules check``: parse, check and analyse rulesets; prove their invariants."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any as AnyType

import click

from cramprules.cli import EXIT_FINDINGS, EXIT_OK, EXIT_RULESET, App
from cramprules.cli._common import choice_format_option, progress, write_output

_SEVERITY_WORDS = {
    "error": ("error", "errors"),
    "warning": ("warning", "warnings"),
    "info": ("note", "notes"),
}


def _count(n: int, severity: str) -> str:
    one, many = _SEVERITY_WORDS[severity]
    return f"{n} {one if n == 1 else many}"


def _invariant_lines(result: AnyType) -> list[str]:
    from cramprules.authoring.examples import describe_entry
    from cramprules.unparse import invariant_body

    lines = []
    for verdict in result.invariants:
        label = f'"{verdict.label}"'
        count = len(verdict.facts)
        if verdict.status == "holds":
            lines.append(
                f"  proved   {label} (all {verdict.combinations:,} combinations of "
                f"{count} fact{'s' if count != 1 else ''}, known or unknown)"
            )
        elif verdict.status == "unverified":
            lines.append(f"  unproved {label}: {verdict.reason}")
        else:
            example = verdict.counterexample
            lines.append(f"  FAILED   {label}: {invariant_body(verdict.invariant)}")
            lines.append(f"           counterexample: {example.describe_facts()} (all other facts unknown)")
            lines.append(f"           outcome: {example.outcome}")
            lines.extend(f"           - {describe_entry(entry)}" for entry in example.trace)
    return lines


def render_text(results: Sequence[AnyType], strict: bool) -> str:
    """What a person reads: each finding with its line and caret, then the invariants."""
    blocks: list[str] = []
    for result in results:
        for diagnostic in result.findings:
            blocks.append(diagnostic.render())
        if result.invariants:
            blocks.append(f"invariants of {result.target}:\n" + "\n".join(_invariant_lines(result)))
    summary = []
    for result in results:
        counts = [_count(result.count(s), s) for s in ("error", "warning", "info") if result.count(s)]
        state = "does not load" if not result.loaded else ("fails" if result.failed(strict) else "ok")
        line = f"{result.target}: {state}" + (f" ({', '.join(counts)})" if counts else "")
        proved = sum(v.status == "holds" for v in result.invariants)
        if result.invariants:
            line += f"; {proved} of {len(result.invariants)} invariants proved"
        if result.hidden:
            line += f"; {result.hidden} findings in the base ruleset not shown"
        summary.append(line)
    blocks.append("\n".join(summary))
    return "\n\n".join(blocks) + "\n"


def to_json(results: Sequence[AnyType], exit_code: int) -> dict[str, AnyType]:
    """The machine-readable form: every finding, every invariant verdict."""

    def invariant(verdict: AnyType) -> dict[str, AnyType]:
        example = verdict.counterexample
        return {
            "label": verdict.label,
            "status": verdict.status,
            "method": verdict.method,
            "combinations": verdict.combinations,
            "facts": list(verdict.facts),
            "reason": verdict.reason,
            "counterexample": None
            if example is None
            else {
                "facts": dict(example.facts),
                "outcome": example.outcome,
                "trace": [t.to_dict() for t in example.trace],
            },
        }

    return {
        "version": 1,
        "rulesets": [
            {
                "target": r.target,
                "ruleset": r.ruleset,
                "loaded": r.loaded,
                "hidden": r.hidden,
                "findings": [d.to_dict() for d in r.findings],
                "invariants": [invariant(v) for v in r.invariants],
            }
            for r in results
        ],
        "summary": {
            "errors": sum(r.count("error") for r in results),
            "warnings": sum(r.count("warning") for r in results),
            "notes": sum(r.count("info") for r in results),
        },
        "exit_code": exit_code,
    }


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


@click.command("check")
@click.argument("rulesets", nargs=-1, metavar="[RULESET...]")
@click.option("--strict", is_flag=True, help="Report every inferred name, and fail on warnings too.")
@choice_format_option(
    ["text", "json", "sarif"], "text for people, json for programs, sarif for code-scanning tools."
)
@click.option(
    "--max-review-age",
    type=click.IntRange(min=0),
    default=730,
    show_default=True,
    metavar="DAYS",
    help="A 'reviewed' date older than this is a warning.",
)
@click.option(
    "--max-combinations",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    metavar="N",
    help="The most input combinations one analysis or invariant proof may try.",
)
@click.option(
    "--today", callback=_date, hidden=True, help="Pretend today is this date (for reproducible output)."
)
@click.option(
    "--output", "-o", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout."
)
@click.pass_obj
def command(
    app: App,
    rulesets: tuple[str, ...],
    strict: bool,
    format_name: str,
    max_review_age: int,
    max_combinations: int,
    today: datetime.date | None,
    output: str | None,
) -> None:
    """Check RULESET files or names (default: the bundled leg-cramps ruleset).

    Reports every syntax and checker error, then what static analysis finds:
    conditions that can never be true, rules that never fire or always lose,
    duplicates, unresolved prefer/avoid conflicts, unused declarations,
    missing citations and stale reviews; and it proves the safety tier and
    every invariant over the whole input space.

    \b
    Exit codes:
      0  no errors (and, with --strict, no warnings)
      1  errors found, or warnings with --strict
      3  a ruleset does not load (syntax or checker errors)

    \b
    Examples:
      cramprules check clinic.cramp
      cramprules check --strict --format sarif -o check.sarif rulesets/*.cramp
    """
    from cramprules.authoring.lint import CheckOptions, check_target
    from cramprules.authoring.sarif import to_sarif

    options = CheckOptions(
        strict=strict,
        max_review_age=max_review_age,
        today=today or datetime.date.today(),
        limit=max_combinations,
    )
    targets: list[str | None] = list(rulesets) or [None]
    results = []
    with progress(len(targets), "Checking") as bar:
        for target in targets:
            results.append(check_target(app.engine, target, options))
            bar.update(1)
    if not all(r.loaded for r in results):
        code = EXIT_RULESET
    elif any(r.failed(strict) for r in results):
        code = EXIT_FINDINGS
    else:
        code = EXIT_OK
    if format_name == "json":
        text = json.dumps(to_json(results, code), indent=2, ensure_ascii=False, default=str) + "\n"
    elif format_name == "sarif":
        text = json.dumps(to_sarif(results), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_text(results, strict)
    write_output(text, output)
    click.get_current_context().exit(code)
