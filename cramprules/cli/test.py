"""``cramprules test``: run the examples written beside the rules, with rule coverage."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any as AnyType

import click

from cramprules.cli import EXIT_FINDINGS, EXIT_OK, EXIT_RULESET, App
from cramprules.cli._common import choice_format_option, progress, write_output


def _coverage_lines(run: AnyType, verbose: bool) -> list[str]:
    coverage = run.coverage
    unless = (
        f"unless {coverage.unless_defeated}/{coverage.unless_total} ({coverage.unless_percent:.1f}%)"
        if coverage.unless_total
        else "no unless"
    )
    tests = f"{sum(c.covered for c in coverage.conditions)}/{len(coverage.conditions)}"
    rules = f"{coverage.rules_fired}/{len(coverage.rules)} ({coverage.rule_percent:.1f}%)"
    lines = [
        f"coverage of {run.ruleset}: rules {rules}, {unless}, conditions {tests} ({coverage.condition_percent:.1f}%)"
    ]
    missed = [r for r in coverage.rules if not r.fired]
    if missed:
        lines.append("  rules no example fired:")
        lines.extend(f"    {r.origin}:{r.line}  {r.rule}" for r in missed)
    dead = [r for r in coverage.rules if r.has_unless and not r.defeated]
    if dead:
        lines.append("  'unless' clauses no example made true:")
        lines.extend(f"    {r.origin}:{r.line}  {r.rule}" for r in dead)
    partial = [c for c in coverage.conditions if not c.covered]
    if partial and verbose:
        lines.append("  tests not seen both true and false:")
        for c in partial:
            never = "never true" if not c.seen_true else "never false"
            if not c.seen_true and not c.seen_false:
                never = "never known"
            lines.append(f"    {c.origin}:{c.line}  {c.rule} ({c.clause}): {c.text}  [{never}]")
    elif partial:
        lines.append(f"  {len(partial)} tests not seen both true and false (-v lists them)")
    return lines


def render_text(runs: Sequence[AnyType], min_coverage: float | None, verbose: bool) -> str:
    blocks: list[str] = []
    for run in runs:
        if run.load_error is not None:
            blocks.append(f"{run.target}: does not load\n{run.load_error}")
            continue
        header = [f"{run.target}: {len(run.results)} examples, {run.passed} passed, {run.failed} failed"]
        if verbose:
            header.extend(
                f'  passed "{result.label}" ({result.origin}:{result.line})'
                for result in run.results
                if result.passed
            )
        blocks.append("\n".join(header))
        blocks.extend("FAILED " + result.describe() for result in run.results if not result.passed)
        if run.coverage is not None:
            lines = _coverage_lines(run, verbose)
            if min_coverage is not None and run.coverage.rule_percent < min_coverage:
                lines.append(
                    f"  rule coverage {run.coverage.rule_percent:.1f}% is below --min-coverage {min_coverage:g}%"
                )
            blocks.append("\n".join(lines))
    passed = sum(r.passed for r in runs)
    failed = sum(r.failed for r in runs)
    blocks.append(f"{passed} passed, {failed} failed")
    return "\n\n".join(blocks) + "\n"


def to_json(runs: Sequence[AnyType], min_coverage: float | None, exit_code: int) -> dict[str, AnyType]:
    def result(r: AnyType) -> dict[str, AnyType]:
        return {
            "label": r.label,
            "origin": r.origin,
            "line": r.line,
            "passed": r.passed,
            "given": dict(r.facts),
            "error": r.error,
            "failures": [
                {
                    "expectation": _describe(f.expectation),
                    "line": f.line,
                    "expected": f.expected,
                    "actual": f.actual,
                    "trace": [t.to_dict() for t in f.trace],
                }
                for f in r.failures
            ],
        }

    return {
        "version": 1,
        "rulesets": [
            {
                "target": run.target,
                "ruleset": run.ruleset,
                "loaded": run.load_error is None,
                "errors": [d.to_dict() for d in run.load_error.diagnostics] if run.load_error else [],
                "passed": run.passed,
                "failed": run.failed,
                "examples": [result(r) for r in run.results],
                "coverage": run.coverage.to_dict() if run.coverage is not None else None,
            }
            for run in runs
        ],
        "summary": {
            "passed": sum(r.passed for r in runs),
            "failed": sum(r.failed for r in runs),
            "min_coverage": min_coverage,
        },
        "exit_code": exit_code,
    }


def _describe(expectation: AnyType) -> str:
    from cramprules.unparse import unparse

    return unparse(expectation)


@click.command("test")
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@choice_format_option(["text", "json"], "text for people, json for programs.")
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PERCENT",
    help="Fail when the examples fire fewer than PERCENT of a ruleset's rules.",
)
@click.option("--include-testing", is_flag=True, help="Also use rules whose status is 'testing'.")
@click.option("--verbose", "-v", is_flag=True, help="List passing examples and every partly covered test.")
@click.option(
    "--output", "-o", metavar="FILE", help="Write the results to FILE (atomically) instead of stdout."
)
@click.pass_obj
def command(
    app: App,
    paths: tuple[str, ...],
    format_name: str,
    min_coverage: float | None,
    include_testing: bool,
    verbose: bool,
    output: str | None,
) -> None:
    """Run the examples of rulesets, and report rule coverage.

    PATH is a .cramp file, a directory (searched for .cramp files, less
    those another one includes) or a ruleset name; default: the bundled
    leg-cramps ruleset.  A .cramp file that 'extends' a ruleset and holds
    examples is a test file for that ruleset.

    \b
    Exit codes:
      0  every example passed (and coverage reached --min-coverage)
      1  an example failed, or coverage is below --min-coverage
      3  a ruleset does not load

    \b
    Examples:
      cramprules test
      cramprules test clinic.cramp --min-coverage 100
      cramprules test tests/rulesets/ --format json
    """
    from pathlib import Path

    from cramprules.authoring.examples import run_ruleset
    from cramprules.authoring.targets import find_rulesets, loaders

    engine = app.engine
    targets: list[str | None] = []
    for item in paths:
        if Path(item).is_dir():
            found = find_rulesets([item])
            if not found:
                from cramprules.exceptions import shorten

                files = sorted(p for p in Path(item).rglob("*.cramp") if p.is_file())
                if files:  # every file is included by another: a cycle of includes
                    raise click.BadParameter(
                        f"every .cramp file under {shorten(item)} is included by another one, so none "
                        f"is a ruleset (do they include each other?); name one: cramprules test {shorten(str(files[0]))}",
                        param_hint="PATH",
                    )
                raise click.BadParameter(f"no .cramp files under {shorten(item)}", param_hint="PATH")
            targets.extend(str(p) for p in found)
        else:
            targets.append(item)
    if not targets:
        targets = [None]
    runs = []
    with progress(len(targets), "Testing") as bar:
        for target in targets:
            load, base, label = loaders(engine, target, include_testing=include_testing)
            runs.append(run_ruleset(load, label, base=base))
            bar.update(1)
    if any(r.load_error is not None for r in runs):
        code = EXIT_RULESET
    elif any(r.failed for r in runs) or (
        min_coverage is not None
        and any(r.coverage is not None and r.coverage.rule_percent < min_coverage for r in runs)
    ):
        code = EXIT_FINDINGS
    else:
        code = EXIT_OK
    if format_name == "json":
        text = json.dumps(to_json(runs, min_coverage, code), indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = render_text(runs, min_coverage, verbose)
    write_output(text, output)
    click.get_current_context().exit(code)
