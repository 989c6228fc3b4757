"""``cramprules fmt``: rewrite ``.cramp`` files in the one canonical layout."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from cramprules import _files as files
from cramprules.cli import EXIT_FINDINGS, EXIT_OK, EXIT_RULESET, App
from cramprules.cli._common import progress
from cramprules.exceptions import shorten
from cramprules.limits import DEFAULT_LIMITS


def _files(paths: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in paths:
        path = Path(item)
        if item != "-" and path.is_dir():
            found = sorted(str(p) for p in path.rglob("*.cramp") if p.is_file())
            if not found:
                raise click.BadParameter(f"no .cramp files under {shorten(item)}", param_hint="FILE")
            out.extend(found)
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def _format_one(name: str, *, check: bool, diff: bool) -> str:
    """Format one file (``-`` is stdin); what happened: changed, unchanged, broken or printed."""
    from cramprules.authoring.fmt import format_text
    from cramprules.exceptions import RulesetError

    limit = DEFAULT_LIMITS.max_source_chars * 4
    try:
        if name == "-":
            source = files.read_stream_bounded(sys.stdin, limit).removeprefix("\ufeff")
        else:
            source = files.read_text(name, limit)
    except FileNotFoundError:
        click.echo(f"error: {shorten(name)}: no such file", err=True)
        return "broken"
    except (OSError, files.NotText) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        click.echo(f"error: cannot read {shorten(name)}: {reason}", err=True)
        return "broken"
    try:
        formatted = format_text(source, "<stdin>" if name == "-" else name)
    except RulesetError as exc:
        click.echo(str(exc), err=True)
        return "broken"
    if name == "-" and not (check or diff):
        click.echo(formatted, nl=False)
        return "printed"
    if formatted == source:
        return "unchanged"
    if diff:
        lines = difflib.unified_diff(
            source.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            f"{name} (original)",
            f"{name} (formatted)",
        )
        click.echo("".join(lines), nl=False)
    if check or diff:
        click.echo(f"would reformat {name}", err=True)
    else:
        try:  # a symlink's target is written, the link stays; the file keeps its mode
            files.write_text(name, formatted)
        except OSError as exc:
            click.echo(f"error: cannot write {shorten(name)}: {exc.strerror or exc}", err=True)
            return "broken"
        click.echo(f"reformatted {name}", err=True)
    return "changed"


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would be reformatted.")
@click.option("--diff", is_flag=True, help="Change nothing; print what would change as a unified diff.")
@click.pass_obj
def command(app: App, files: tuple[str, ...], check: bool, diff: bool) -> None:
    """Format .cramp FILEs (or every .cramp file under a directory) in place.

    One canonical layout, comments kept, and the same rules afterwards:
    the formatted file parses to the same syntax tree.  '-' formats stdin to
    stdout.

    \b
    Exit codes:
      0  nothing to change (or everything reformatted)
      1  with --check or --diff: a file would be reformatted
      3  a file does not parse (it is left as it is)

    \b
    Examples:
      cramprules fmt clinic.cramp
      cramprules fmt --check rulesets/
      cramprules fmt --diff clinic.cramp
    """
    counts = {"changed": 0, "unchanged": 0, "broken": 0, "printed": 0}
    names = _files(files)
    with progress(len(names), "Formatting") as bar:
        for name in names:
            counts[_format_one(name, check=check, diff=diff)] += 1
            bar.update(1)
    changed, unchanged, broken = counts["changed"], counts["unchanged"], counts["broken"]
    verb = "would be reformatted" if check or diff else "reformatted"
    summary = [f"{changed} file{'s' if changed != 1 else ''} {verb}"]
    if unchanged:
        summary.append(f"{unchanged} left unchanged")
    if broken:
        summary.append(f"{broken} could not be formatted")
    click.echo(", ".join(summary) + ".", err=True)
    if broken:
        code = EXIT_RULESET
    elif changed and (check or diff):
        code = EXIT_FINDINGS
    else:
        code = EXIT_OK
    click.get_current_context().exit(code)
