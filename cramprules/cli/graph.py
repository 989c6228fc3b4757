"""``cramprules graph``: facts -> rules -> options, causes and referrals.

The picture of a ruleset an author reviews: which facts each rule reads
(dashed when only in its ``unless``), what it concludes, which causes chain
into other rules, which rules override which.  Urgent referrals, the safety
tier, are drawn in red.  Text for Graphviz (dot) or Mermaid; svg needs
Graphviz's ``dot`` program.
"""

from __future__ import annotations

import shutil
import subprocess

import click

from cramprules.cli import EXIT_INTERNAL, EXIT_USAGE, App, CliError
from cramprules.cli._common import (
    choice_format_option,
    output_option,
    ruleset_argument,
    testing_option,
    write_output,
)
from cramprules.exceptions import shorten
from cramprules.graph import Edge, Graph, Node, build_graph, to_dot, to_mermaid

__all__ = ["Edge", "Graph", "Node", "build_graph", "command", "to_dot", "to_mermaid", "to_svg"]

# ---------------------------------------------------------------- svg


def to_svg(dot_text: str) -> str:
    """Graphviz renders the dot text; a clear error when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise CliError(
            "error: --format svg needs Graphviz's 'dot' program, which is not on PATH: install Graphviz "
            "(apt install graphviz, brew install graphviz, https://graphviz.org/download/) "
            "or use --format dot or --format mermaid",
            EXIT_USAGE,
        )
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CliError(f"error: cannot run {dot}: {exc}", EXIT_USAGE) from None
    if done.returncode != 0:
        raise CliError(
            f"error: Graphviz 'dot' failed ({done.returncode}): {shorten(done.stderr.strip())}", EXIT_INTERNAL
        )
    return done.stdout


@click.command("graph")
@ruleset_argument
@choice_format_option(
    ["dot", "mermaid", "svg"], "dot (Graphviz text), mermaid, or svg (needs Graphviz's 'dot' installed)."
)
@testing_option
@output_option
@click.pass_obj
def command(
    app: App, ruleset: str | None, format_name: str, include_testing: bool, output: str | None
) -> None:
    """Draw a ruleset: facts -> rules -> options, causes and referrals.

    Dashed arrows come from facts a rule reads only in its 'unless', and go
    to options a rule advises against; dotted arrows show 'overrides'.
    Causes that other rules test link cause -> rule.  Urgent referrals, the
    safety tier, are red.

    \b
    Examples:
      cramprules graph | dot -Tpng > leg_cramps.png
      cramprules graph --format svg --output leg_cramps.svg
      cramprules graph clinic.cramp --format mermaid
    """
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    graph = build_graph(rs)
    if format_name == "mermaid":
        text = to_mermaid(graph)
    elif format_name == "svg":
        text = to_svg(to_dot(graph))
    else:
        text = to_dot(graph)
    write_output(text, output)
