"""``cramprules eval``: evaluate facts and print the report."""

from __future__ import annotations

import json

import click

from cramprules.cli import App
from cramprules.cli._common import (
    audience_option,
    check_format,
    fact_options,
    format_option,
    parse_fact_args,
    read_fact_records,
    ruleset_argument,
    testing_option,
    write_output,
)


@click.command("eval")
@ruleset_argument
@fact_options
@format_option()
@audience_option
@testing_option
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
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

    Facts come from --fact flags and from --facts FILE; flags win.  A file
    with several records gives one report each (a JSON list with --format json).

    \b
    Examples:
      cramprules eval --fact pain=9
      cramprules eval --fact constipation --fact long_term --fact bedtime=no
      cramprules eval clinic.cramp --facts patient.yaml --format markdown
      echo '{"night_cramps": true}' | cramprules eval --facts - --format json
    """
    engine = app.engine
    check_format(engine, format_name)
    flags = parse_fact_args(fact_args)
    records = read_fact_records(engine, facts_file, facts_format) or [{}]
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    reports = [rs.evaluate({**record, **flags}) for record in records]
    if len(reports) == 1:
        text = engine.render(reports[0], format_name, audience=audience)
    elif format_name == "json":
        text = json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False) + "\n"
    else:
        text = "\n".join(engine.render(r, format_name, audience=audience) for r in reports)
    write_output(text, output)
