"""``cramprules lsp``: the language server, for editors, on stdin and stdout.

pygls is an optional extra; without it the command says how to install it,
in one line.  Nothing here imports it before the command runs.
"""

from __future__ import annotations

import importlib.util
import logging

import click

from cramprules.cli import EXIT_USAGE, App, CliError

LSP_DEPS = ("pygls", "lsprotocol")


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk on stdin and stdout (the default and only transport).")
@click.option(
    "--log-file", type=click.Path(dir_okay=False), metavar="FILE", help="Write the server's log to FILE."
)
@click.pass_obj
def command(app: App, stdio: bool, log_file: str | None) -> None:
    """Run the Language Server Protocol server for .cramp files on stdio.

    Editors start it and talk to it: diagnostics as you type (what 'check'
    reports), hover, go to definition, references, completion, formatting,
    outline, quick fixes and semantic colours.  See docs/editors.md.

    \b
    Examples:
      cramprules lsp
      cramprules lsp --log-file /tmp/cramprules-lsp.log
    """
    missing = [name for name in LSP_DEPS if importlib.util.find_spec(name) is None]
    if missing:
        raise CliError(
            f"error: lsp needs the lsp extra ({', '.join(missing)} missing); "
            "install it with: pip install 'cramprules[lsp]'",
            EXIT_USAGE,
        )
    if log_file:
        logging.basicConfig(filename=log_file, level=logging.INFO)
    from cramprules.lsp.server import build_server

    build_server(app.engine).start_io()
