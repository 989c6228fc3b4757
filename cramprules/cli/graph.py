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
from typing import Any as AnyType

import attrs
import click

from cramprules.cli import EXIT_INTERNAL, EXIT_USAGE, App, CliError
from cramprules.cli._common import (
    choice_format_option,
    output_option,
    ruleset_argument,
    testing_option,
    write_output,
)

URGENT_FILL = "#fde0e0"
URGENT_LINE = "#c00000"


@attrs.frozen
class Node:
    id: str
    kind: str  # fact, rule, option, cause, refer
    label: str
    urgent: bool = False


@attrs.frozen
class Edge:
    source: str
    target: str
    label: str | None = None
    style: str = "solid"  # solid, dashed (unless, avoid), dotted (overrides)
    urgent: bool = False


@attrs.frozen
class Graph:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def build_graph(ruleset: AnyType) -> Graph:
    """The nodes and edges of a ruleset, in declaration and source order."""
    from cramprules.nodes import names_in

    program = ruleset.program
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    used: set[str] = set()
    for rule in program.rules:
        used |= names_in(rule.condition, rule.unless)
    for name, spec in program.facts.items():
        if name in used:
            detail = spec.describe_type()
            nodes[f"fact_{name}"] = Node(f"fact_{name}", "fact", f"{name}\n{detail}")
    for rule in program.rules:
        rid = f"rule_{rule.name.replace('@', '_')}"
        label = rule.name + (f"\npriority {rule.priority}" if rule.priority else "")
        nodes[rid] = Node(rid, "rule", label, urgent=rule.urgent)
        in_condition = names_in(rule.condition)
        in_unless = names_in(rule.unless) - in_condition
        for names, style, edge_label in ((in_condition, "solid", None), (in_unless, "dashed", "unless")):
            for name in sorted(names, key=_order(program)):
                kind = "cause" if name in program.causes else "fact"
                edges.append(Edge(f"{kind}_{name}", rid, edge_label, style))
        for action in rule.actions:
            if action.kind == "refer":
                tid = f"refer_{action.target}"
                old = nodes.get(tid)
                nodes[tid] = Node(
                    tid, "refer", action.target, urgent=action.urgent or bool(old and old.urgent)
                )
                edges.append(
                    Edge(
                        rid, tid, "refer urgent" if action.urgent else "refer", "solid", urgent=action.urgent
                    )
                )
            elif action.kind == "suspect":
                edges.append(Edge(rid, f"cause_{action.target}", "suspect"))
            else:
                style = "dashed" if action.kind == "avoid" else "solid"
                edges.append(Edge(rid, f"option_{action.target}", action.kind, style))
    for name, option in program.options.items():
        nodes[f"option_{name}"] = Node(f"option_{name}", "option", option.label)
    for name, cause in program.causes.items():
        nodes[f"cause_{name}"] = Node(f"cause_{name}", "cause", cause.label)
    for rule in program.rules:
        for other in rule.overrides:
            rid = f"rule_{rule.name.replace('@', '_')}"
            edges.append(Edge(rid, f"rule_{other.replace('@', '_')}", "overrides", "dotted"))
    order = {"fact": 0, "cause": 1, "rule": 2, "refer": 3, "option": 4}
    ordered = sorted(nodes.values(), key=lambda n: order[n.kind])
    title = (
        f"{ruleset.title or ruleset.name} ({ruleset.name}{' ' + ruleset.version if ruleset.version else ''})"
    )
    return Graph(title, tuple(ordered), tuple(edges))


def _order(program: AnyType) -> AnyType:
    positions = {name: i for i, name in enumerate([*program.facts, *program.causes])}
    return lambda name: positions.get(name, len(positions))


# ---------------------------------------------------------------- dot


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


_DOT_STYLES: dict[str, dict[str, str]] = {
    "fact": {"shape": "ellipse", "style": "filled", "fillcolor": "#eef3fb"},
    "cause": {"shape": "diamond", "style": "filled", "fillcolor": "#fff4d6"},
    "rule": {"shape": "box", "style": "rounded"},
    "option": {"shape": "box", "style": "filled", "fillcolor": "#e6f4e6"},
    "refer": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#f0f0f0"},
}


def _dot_attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{key}={_dot_text(value)}" for key, value in attributes.items())


def to_dot(graph: Graph) -> str:
    """Graphviz text; every name and label quoted, so any text is safe."""
    lines = [
        "digraph cramprules {",
        f"  graph [rankdir=LR, label={_dot_text(graph.title)}, labelloc=t, fontname=Helvetica];",
        "  node [fontname=Helvetica, fontsize=11];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for node in graph.nodes:
        attributes = {"label": node.label, **_DOT_STYLES[node.kind]}
        if node.urgent:
            attributes.update(color=URGENT_LINE, penwidth="2")
            if node.kind == "refer":
                attributes["fillcolor"] = URGENT_FILL
            else:
                attributes["style"] += ",bold"
        lines.append(f"  {_dot_text(node.id)} [{_dot_attributes(attributes)}];")
    for edge in graph.edges:
        attributes = {}
        if edge.label:
            attributes["label"] = edge.label
        if edge.style != "solid":
            attributes["style"] = edge.style
        if edge.urgent:
            attributes.update(color=URGENT_LINE, penwidth="2")
        suffix = f" [{_dot_attributes(attributes)}]" if attributes else ""
        lines.append(f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- mermaid


def _mermaid_text(text: str) -> str:
    escaped = (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", "<br>")
    )
    return f'"{escaped}"'


_MERMAID_SHAPES = {
    "fact": ("([", "])"),
    "cause": ("{{", "}}"),
    "rule": ("[", "]"),
    "option": ("[/", "/]"),
    "refer": ("[[", "]]"),
}


def to_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: paste it into a ```mermaid block in Markdown."""
    lines = ["flowchart LR", f"  %% {graph.title}"]
    for node in graph.nodes:
        start, end = _MERMAID_SHAPES[node.kind]
        lines.append(f"  {node.id}{start}{_mermaid_text(node.label)}{end}")
    for edge in graph.edges:
        label = edge.label
        if edge.style == "solid":
            arrow = "==>" if edge.urgent else "-->"
            middle = f"|{_mermaid_text(label)}|" if label else ""
            lines.append(f"  {edge.source} {arrow}{middle} {edge.target}")
        else:
            text = f" {label} " if label else " "
            lines.append(f"  {edge.source} -.{text}.-> {edge.target}")
    lines.append(f"  classDef urgent fill:{URGENT_FILL},stroke:{URGENT_LINE},stroke-width:2px")
    urgent = [node.id for node in graph.nodes if node.urgent]
    if urgent:
        lines.append(f"  class {','.join(urgent)} urgent")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- svg


def to_svg(dot_text: str) -> str:
    """Graphviz renders the dot text; a clear error when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise CliError(
            "--format svg needs Graphviz's 'dot' program, which is not on PATH: install Graphviz "
            "(apt install graphviz, brew install graphviz, https://graphviz.org/download/) "
            "or use --format dot or --format mermaid",
            EXIT_USAGE,
        )
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CliError(f"cannot run {dot}: {exc}", EXIT_USAGE) from None
    if done.returncode != 0:
        raise CliError(f"Graphviz 'dot' failed ({done.returncode}): {done.stderr.strip()}", EXIT_INTERNAL)
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
