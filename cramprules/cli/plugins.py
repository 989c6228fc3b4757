"""``cramprules plugins``: what is loaded, from which distribution, with which hooks."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from cramprules.cli import App
from cramprules.cli._common import choice_format_option

_PREFIX = "cramprules_"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


@click.command("plugins")
@choice_format_option(["text", "json"], "text: a table for people; json: a list of objects for programs.")
@click.option("--all", "show_all", is_flag=True, help="Also list the plugins disabled with -p no:NAME.")
@click.pass_obj
def command(app: App, format_name: str, show_all: bool) -> None:
    """List every plugin: its name, distribution, version and the hooks it implements.

    Built-in plugins come from the 'cramprules' distribution; installed ones
    from their own, found through the 'cramprules' entry-point group.  Any of
    them can be left out with `cramprules -p no:NAME ...`.

    \b
    Examples:
      cramprules plugins
      cramprules plugins --format json
      cramprules -p no:labs plugins --all
    """
    infos = app.engine.plugins(include_disabled=show_all)
    if format_name == "json":
        click.echo(json.dumps([info.to_dict() for info in infos], indent=2))
        return
    rows = [("NAME", "DISTRIBUTION", "VERSION", "HOOKS")]
    for info in infos:
        hooks = ", ".join(h.removeprefix(_PREFIX) for h in info.hooks)
        rows.append(
            (
                info.name,
                info.distribution or "-",
                info.version or "-",
                "(disabled)" if info.disabled else hooks or "-",
            )
        )
    click.echo(_table(rows), nl=False)
