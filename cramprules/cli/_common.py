"""Options and helpers that several commands share."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any as AnyType, TypeVar

import click

F = TypeVar("F", bound=Callable[..., AnyType])


def ruleset_argument(function: F) -> F:
    return click.argument("ruleset", required=False, metavar="[RULESET]")(function)


def format_option(default: str = "text") -> Callable[[F], F]:
    """``--format NAME``: any format a plugin registers, checked when used."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        from cramprules.engine import Engine

        try:
            names = Engine().formats()
        except Exception:  # noqa: BLE001 - completion must never crash a shell
            return []
        return [n for n in names if n.startswith(incomplete)]

    return click.option(
        "--format",
        "-f",
        "format_name",
        default=default,
        show_default=True,
        metavar="NAME",
        shell_complete=complete,
        help="Output format: text, json, markdown, html, or one a plugin adds.",
    )


def audience_option(function: F) -> F:
    return click.option(
        "--audience",
        type=click.Choice(["patient", "clinician"]),
        default="patient",
        show_default=True,
        help="Who reads it: 'because' speaks to the patient, 'detail' to the clinician.",
    )(function)


def testing_option(function: F) -> F:
    return click.option(
        "--include-testing",
        is_flag=True,
        help="Also use rules whose status is 'testing'.",
    )(function)


def fact_options(function: F) -> F:
    function = click.option(
        "--facts",
        "facts_file",
        metavar="FILE|-",
        help="Read facts from a file (json, yaml, csv, toml, ... by suffix) or '-' for stdin.",
    )(function)
    function = click.option(
        "--facts-format",
        metavar="SUFFIX",
        default=None,
        help="The format of --facts when the file has no suffix or is stdin (default: json).",
    )(function)
    function = click.option(
        "--fact",
        "fact_args",
        multiple=True,
        metavar="NAME=VALUE",
        help="A fact; NAME alone means true, NAME=unknown leaves it unknown. Repeatable.",
    )(function)
    return function


def parse_fact_args(fact_args: Iterable[str]) -> dict[str, object]:
    facts: dict[str, object] = {}
    for item in fact_args:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name:
            raise click.BadParameter(f"'{item}' has no fact name", param_hint="--fact")
        facts[name] = value.strip() if sep else True
    return facts


def read_fact_records(engine: AnyType, facts_file: str | None, facts_format: str | None) -> list[dict[str, object]]:
    """The records of ``--facts``: none, one or many."""
    if facts_file is None:
        return []
    if facts_file == "-":
        text = sys.stdin.read()
        return engine.load_facts(text, facts_format or "json")  # type: ignore[no-any-return]
    path = Path(facts_file)
    if facts_format:
        from cramprules.exceptions import FactError

        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FactError(f"{path}: cannot read the facts: {exc.strerror or exc}", fact="") from None
        return engine.load_facts(text, facts_format)  # type: ignore[no-any-return]
    return engine.load_facts_file(path)  # type: ignore[no-any-return]


def write_output(text: str, output: str | None) -> None:
    """Print, or write a file atomically: all of it or, on failure, nothing."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    directory = target.parent if str(target.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_format(engine: AnyType, name: str) -> None:
    formats = engine.formats()
    if name not in formats:
        from cramprules.names import closest

        guess = closest(name, formats)
        hint = f"did you mean '{guess}'?" if guess else "choose from " + ", ".join(sorted(formats))
        raise click.BadParameter(f"unknown format '{name}'; {hint}", param_hint="--format")
