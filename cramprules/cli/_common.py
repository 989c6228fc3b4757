"""Options and helpers that several commands share.

Nothing here imports the engine at module level: ``cramprules eval --help``
must start without the parser or any plugin.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TextIO, TypeVar
from typing import Any as AnyType

import click
from click.shell_completion import CompletionItem

F = TypeVar("F", bound=Callable[..., AnyType])


# ---------------------------------------------------------------- terminals and colour


def is_terminal(stream: IO[AnyType] | None) -> bool:
    """Whether ``stream`` is a terminal a person reads (tests monkeypatch this)."""
    if stream is None:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or odd streams are not terminals
        return False


def color_enabled(stream: IO[AnyType] | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(sys.stdout if stream is None else stream)


class Painter:
    """``click.style`` when colour is on, plain text when it is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, **style: AnyType) -> str:
        return click.style(text, **style) if self.enabled else text


def paint_text_report(text: str, paint: Painter) -> str:
    """Headings of the text format in bold, the urgent one in red: for terminals only.

    The text format itself stays plain (it is also written to files); this
    recognises its headings by the dashes under them and leaves anything
    else as it is.
    """
    if not paint.enabled:
        return text
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        title, rule = lines[i], lines[i + 1]
        if title and rule and set(rule) == {"-"} and len(rule) == len(title):
            urgent = title.isupper()
            lines[i] = paint(title, bold=True, fg="red" if urgent else None)
        elif title.startswith("  ! "):
            lines[i] = paint(title, fg="red", bold=True)
    return "\n".join(lines)


def progress(length: int, label: str) -> AnyType:
    """A progress bar on stderr when it is a terminal and there is more than
    one thing to do; silent when piped."""
    hidden = not is_terminal(sys.stderr) or length < 2
    return click.progressbar(length=length, label=label, file=sys.stderr, hidden=hidden, show_pos=True)


# ---------------------------------------------------------------- arguments and options


def _complete_ruleset(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Ruleset names that plugins offer, then ``.cramp`` files."""
    items = [CompletionItem(incomplete, type="file")]
    try:
        from cramprules.engine import Engine

        names = Engine().ruleset_names()
    except Exception:  # noqa: BLE001 - completion must never crash a shell
        return items
    return [CompletionItem(n) for n in names if n.startswith(incomplete)] + items


def ruleset_argument(function: F) -> F:
    return click.argument("ruleset", required=False, metavar="[RULESET]", shell_complete=_complete_ruleset)(
        function
    )


def complete_formats(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Every format the installed plugins register (for shell completion)."""
    try:
        from cramprules.engine import Engine

        names = Engine().formats()
    except Exception:  # noqa: BLE001 - completion must never crash a shell
        return []
    return [n for n in names if n.startswith(incomplete)]


def format_option(default: str = "text") -> Callable[[F], F]:
    """``--format NAME``: any format a plugin registers, checked when used."""
    return click.option(
        "--format",
        "-f",
        "format_name",
        default=default,
        show_default=True,
        metavar="NAME",
        shell_complete=complete_formats,
        help="Output format: text, json, markdown, html, or one a plugin adds.",
    )


def output_option(function: F) -> F:
    return click.option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE instead of stdout; all of it or, on failure, nothing.",
    )(function)


def choice_format_option(choices: Sequence[str], help: str) -> Callable[[F], F]:
    """``--format``/``-f`` over a fixed set of formats, the first the default."""
    return click.option(
        "--format",
        "-f",
        "format_name",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
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


# ---------------------------------------------------------------- facts


def parse_fact_args(
    fact_args: Iterable[str], param_hint: str = "--fact", *, given: dict[str, object] | None = None
) -> dict[str, object]:
    """``NAME=VALUE`` items as a mapping; a bare ``NAME`` means true.

    Values stay text: the ruleset coerces them by the fact's declared type.
    A fact given twice with different values is an error naming both: the
    last one silently winning could hide an urgent referral.  ``given``
    holds facts already taken from other arguments of the same command line.
    """
    from cramprules.exceptions import shorten, show_value

    facts: dict[str, object] = {}
    earlier = dict(given or {})
    for item in fact_args:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name:
            raise click.BadParameter(f"'{shorten(item)}' has no fact name", param_hint=param_hint)
        new = value.strip() if sep else True
        if name in earlier and earlier[name] != new:
            raise click.BadParameter(
                f"'{shorten(name)}' is given twice, as {show_value(_shown(earlier[name]))} and as "
                f"{show_value(_shown(new))}; give it once",
                param_hint=param_hint,
            )
        facts[name] = earlier[name] = new
    return facts


def _shown(value: object) -> object:
    return "yes" if value is True else value


def looks_like_ruleset(engine: AnyType, word: str) -> bool:
    """Whether a positional word names a ruleset (a file or a plugin's name) rather than a fact."""
    if "=" in word:
        return False
    # A fact name is letters, digits and _: a word with a dot or a slash is a file name.
    if "." in word or os.sep in word or "/" in word or Path(word).is_file():
        return True
    return word in engine.ruleset_names()


def split_positionals(engine: AnyType, words: Sequence[str]) -> tuple[str | None, list[str]]:
    """``[RULESET] [NAME=VALUE | NAME ...]``: the ruleset, if the first word is one, and the facts."""
    if words and looks_like_ruleset(engine, words[0]):
        return words[0], list(words[1:])
    return None, list(words)


def read_fact_records(
    engine: AnyType, facts_file: str | None, facts_format: str | None, *, max_bytes: int | None = None
) -> list[dict[str, object]]:
    """The records of ``--facts``: none, one or many.  A loader's error names the file.

    At most ``max_bytes`` are read (default: the engine's ``limits.max_fact_bytes``).
    """
    from cramprules import _files
    from cramprules.exceptions import FactError, shorten

    if facts_file is None:
        return []
    name = "<stdin>" if facts_file == "-" else shorten(facts_file)
    try:
        limit = engine.limits.max_fact_bytes if max_bytes is None else max_bytes
        if facts_file == "-":
            try:
                text = _files.read_stream_bounded(sys.stdin, limit)
            except _files.FileTooLarge:
                raise FactError(f"the facts are larger than the limit of {limit:,} bytes", fact="") from None
            except _files.NotText as exc:
                raise FactError(str(exc), fact="") from None
            return engine.load_facts(text.removeprefix("\ufeff"), facts_format or "json")  # type: ignore[no-any-return]
        path = Path(facts_file)
        text = engine.read_facts_text(path, limit)
        return engine.load_facts(text, facts_format or engine.loader_for(path), max_bytes=limit)  # type: ignore[no-any-return]
    except FactError as exc:
        if str(exc).startswith(name):
            raise
        raise FactError(f"{name}: {exc}", fact=exc.fact, suggestion=exc.suggestion) from None


def gather_facts(
    engine: AnyType,
    fact_args: Iterable[str],
    facts_file: str | None,
    facts_format: str | None,
    *,
    positional: Iterable[str] = (),
    what: str = "this command",
) -> dict[str, object]:
    """One fact set from ``--facts`` (a single record), positional facts and ``--fact``; flags win
    over the file, and a fact given twice on the command line is an error."""
    records = read_fact_records(engine, facts_file, facts_format)
    if len(records) > 1:
        raise click.BadParameter(
            f"{facts_file} holds {len(records)} records; {what} takes one (use 'cramprules batch' for many)",
            param_hint="--facts",
        )
    from cramprules.facts import split_record

    base = split_record(records[0])[1] if records else {}
    words = parse_fact_args(positional, "FACTS")
    return {**base, **words, **parse_fact_args(fact_args, given=words)}


def check_record_count(engine: AnyType, records: Sequence[object], facts_file: str | None) -> None:
    """Refuse more records than ``limits.max_records`` before rendering a report for each."""
    limit = engine.limits.max_records
    if len(records) > limit:
        raise click.BadParameter(
            f"{facts_file} holds {len(records):,} records; the limit for one report each is {limit:,} "
            "(use 'cramprules batch' for many records)",
            param_hint="--facts",
        )


# ---------------------------------------------------------------- output


def cannot_write(output: str, exc: OSError) -> click.ClickException:
    """The one-line error for an output that cannot be written."""
    from cramprules.cli import CliError
    from cramprules.exceptions import shorten

    return CliError(f"error: cannot write {shorten(output)}: {exc.strerror or exc}")


def check_output(output: str | None) -> None:
    """Fail now, before any work, if ``output`` could not be written at the end."""
    if output is None or output == "-":
        return
    from cramprules import _files

    try:
        _files.check_writable(output)
    except OSError as exc:
        raise cannot_write(output, exc) from None


@contextlib.contextmanager
def open_output(output: str | None) -> Iterator[TextIO]:
    """stdout, or a file written by :func:`cramprules._files.atomic_writer`.

    A regular file is replaced atomically (all of it, or on failure nothing)
    and keeps its mode; a device, FIFO or ``/dev/stdout`` is written in
    place; a symlink's target is written.
    """
    if output is None or output == "-":
        yield sys.stdout
        return
    from cramprules import _files

    try:
        with _files.atomic_writer(output) as handle:
            yield handle
    except OSError as exc:
        raise cannot_write(output, exc) from None


def write_output(text: str, output: str | None, *, color: bool | None = None) -> None:
    """Print, or write a file atomically: all of it or, on failure, nothing."""
    if output is None or output == "-":
        click.echo(text, nl=False, color=color)
        return
    with open_output(output) as handle:
        handle.write(text)


def check_format(engine: AnyType, name: str) -> None:
    formats = engine.formats()
    if name not in formats:
        from cramprules.names import closest

        guess = closest(name, formats)
        hint = f"did you mean '{guess}'?" if guess else "choose from " + ", ".join(sorted(formats))
        raise click.BadParameter(f"unknown format '{name}'; {hint}", param_hint="--format")
