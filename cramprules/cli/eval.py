"""``cramprules eval``: evaluate facts and print the report."""

from __future__ import annotations

import json
from typing import Any as AnyType

import click

from cramprules.cli import App
from cramprules.cli._common import (
    Painter,
    audience_option,
    check_format,
    check_output,
    check_record_count,
    color_enabled,
    fact_options,
    format_option,
    output_option,
    paint_text_report,
    parse_fact_args,
    progress,
    read_fact_records,
    ruleset_argument,
    testing_option,
    write_output,
)
from cramprules.exceptions import FactError
from cramprules.facts import split_record

CHUNK = 256
"""Records evaluated between two updates of the progress bar."""


def evaluate_records(
    rs: AnyType, records: list[dict[str, object]], flags: dict[str, object]
) -> list[AnyType]:
    """Every record with the flags on top, by the fast path, with a progress bar when there are many."""
    if len(records) == 1:  # one fact set: its errors need no record number
        return [rs.evaluate({**records[0], **flags})]
    if len(records) <= CHUNK:
        return rs.evaluate_many([{**record, **flags} for record in records])  # type: ignore[no-any-return]
    reports: list[AnyType] = []
    with progress(len(records), "Evaluating") as bar:
        for start in range(0, len(records), CHUNK):
            chunk = [{**record, **flags} for record in records[start : start + CHUNK]]
            try:
                reports.extend(rs.evaluate_many(chunk))
            except FactError as exc:
                raise renumbered(exc, start) from None
            bar.update(len(chunk))
    return reports


def named_error(exc: FactError, who: list[str | None]) -> FactError:
    """A bad record's error, naming whose record it is (``Patient/123``) when the loader said."""
    index = exc.record if exc.record is not None else (0 if len(who) == 1 else None)
    if index is None or index >= len(who) or not who[index]:
        return exc
    message = str(exc)
    prefix = f"record {index}:"
    if message.startswith(prefix):
        message = f"record {index} ({who[index]}):" + message[len(prefix) :]
    else:
        message = f"{who[index]}: {message}"
    return FactError(message, fact=exc.fact, suggestion=exc.suggestion, record=exc.record)


def headed(name: str | None, text: str, format_name: str) -> str:
    """A report with a heading naming whose it is, in the formats that are read as text."""
    if name is None:
        return text
    if format_name == "text":
        return f"{name}\n{'=' * len(name)}\n\n{text}"
    if format_name == "markdown":
        return f"**Record: {name}**\n\n{text}"
    return text


def renumbered(exc: FactError, offset: int) -> FactError:
    """The error of a chunk's record, numbered from the start of the input."""
    record = exc.record
    if record is None:
        return exc
    message = str(exc).replace(f"record {record}:", f"record {record + offset}:", 1)
    return FactError(message, fact=exc.fact, suggestion=exc.suggestion, record=record + offset)


@click.command("eval")
@ruleset_argument
@fact_options
@format_option()
@audience_option
@testing_option
@output_option
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
) -> None:
    """Evaluate facts against RULESET (default: the bundled leg-cramps ruleset).

    Facts come from --fact flags and from --facts FILE; flags win.  A value
    is read by the fact's declared type: yes/no, a number, or one of the
    allowed names.  A file with several records gives one report each (a
    JSON list with --format json).

    \b
    Examples:
      cramprules eval --fact pain=9
      cramprules eval --fact constipation --fact long_term --fact bedtime=no
      cramprules eval clinic.cramp --facts patient.yaml --format markdown
      echo '{"night_cramps": true}' | cramprules eval --facts - --format json
      cramprules eval --fact pain=9 --format html --output report.html
    """
    engine = app.engine
    check_format(engine, format_name)
    check_output(output)
    flags = parse_fact_args(fact_args)
    records = read_fact_records(engine, facts_file, facts_format)
    check_record_count(engine, records, facts_file)
    named = [split_record(record) for record in records or [{}]]
    who = [name for name, _ in named]
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    try:
        reports = evaluate_records(rs, [facts for _, facts in named], flags)
    except FactError as exc:
        raise named_error(exc, who) from None
    if any(who) and format_name == "json":
        listed = [{"record": name, "report": r.to_dict()} for name, r in zip(who, reports)]
        text = json.dumps(listed, indent=2, ensure_ascii=False) + "\n"
    elif len(reports) == 1:
        text = headed(who[0], engine.render(reports[0], format_name, audience=audience), format_name)
    elif format_name == "json":
        text = json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False) + "\n"
    else:
        text = "\n".join(
            headed(name, engine.render(r, format_name, audience=audience), format_name)
            for name, r in zip(who, reports)
        )
    to_terminal = output in (None, "-") and format_name == "text"
    paint = Painter(to_terminal and color_enabled())
    write_output(paint_text_report(text, paint), output, color=paint.enabled or None)
