"""``cramprules fmt``: rewrite ``.cramp`` files in the one canonical layout."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from pathlib import Path

import click

from cramprules.cli import EXIT_FINDINGS, EXIT_OK, EXIT_RULESET, App
from cramprules.cli._common import progress


def _files(paths: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in paths:
        path = Path(item)
        if item != "-" and path.is_dir():
            found = sorted(str(p) for p in path.rglob("*.cramp") if p.is_file())
            if not found:
                raise click.BadParameter(f"no .cramp files under {item}", param_hint="FILE")
            out.extend(found)
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once, keeping its permissions."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        with contextlib.suppress(OSError):  # keep the permissions where the system allows
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _format_one(name: str, *, check: bool, diff: bool) -> str:
    """Format one file (``-`` is stdin); what happened: changed, unchanged, broken or printed."""
    from cramprules.authoring.fmt import format_text
    from cramprules.exceptions import RulesetError

    try:
        source = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"error: cannot read {name}: {exc}", err=True)
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
        write_atomically(Path(name), formatted)
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
