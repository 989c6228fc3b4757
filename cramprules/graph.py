"""A ruleset as a graph: facts -> rules -> options, causes and referrals.

The picture of a ruleset an author reviews, as plain values, and three ways
to draw it: Graphviz text (dot), Mermaid text, and an SVG drawn here with no
program to run, for the playground and anything else that cannot run
Graphviz.  ``cramprules graph`` renders these; it decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import attrs

from cramprules.nodes import names_in

if TYPE_CHECKING:
    from cramprules.model import Program
    from cramprules.ruleset import Ruleset

__all__ = [
    "URGENT_FILL",
    "URGENT_LINE",
    "Edge",
    "Graph",
    "Node",
    "build_graph",
    "draw_svg",
    "to_dot",
    "to_mermaid",
]

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


def build_graph(ruleset: Ruleset) -> Graph:
    """The nodes and edges of a ruleset, in declaration and source order."""
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


def _order(program: Program) -> Callable[[str], int]:
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


# ---------------------------------------------------------------- svg, drawn here

_COLUMNS = {"fact": 0, "cause": 1, "rule": 2, "refer": 3, "option": 4}
_FILLS = {"fact": "#eef3fb", "cause": "#fff4d6", "rule": "#ffffff", "option": "#e6f4e6", "refer": "#f0f0f0"}
_BOX_WIDTH = 170
_COLUMN_GAP = 70
_LINE_HEIGHT = 15
_ROW_GAP = 14


def draw_svg(graph: Graph) -> str:
    """An SVG of the graph in five columns (facts, causes, rules, referrals, options).

    Simpler than Graphviz's layout, but needs no program: every label is
    escaped, so any text in a ruleset is safe to show in a page.
    """
    heights: dict[int, int] = {}
    boxes: dict[str, tuple[int, int, int]] = {}
    for node in graph.nodes:
        column = _COLUMNS[node.kind]
        top = heights.get(column, 40)
        height = _LINE_HEIGHT * len(node.label.split("\n")) + 12
        boxes[node.id] = (column * (_BOX_WIDTH + _COLUMN_GAP) + 10, top, height)
        heights[column] = top + height + _ROW_GAP
    width = len(_COLUMNS) * (_BOX_WIDTH + _COLUMN_GAP)
    total = max(heights.values(), default=60) + 10
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total}" '
            f'width="{width}" height="{total}" font-family="sans-serif" font-size="11" role="img">'
        ),
        f"<title>{escape(graph.title)}</title>",
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
        ),
        f'<text x="10" y="20" font-size="13" font-weight="bold">{escape(graph.title)}</text>',
    ]
    for edge in graph.edges:
        if edge.source not in boxes or edge.target not in boxes:
            continue
        sx, sy, sh = boxes[edge.source]
        tx, ty, th = boxes[edge.target]
        x1, y1 = sx + _BOX_WIDTH, sy + sh / 2
        x2, y2 = tx, ty + th / 2
        if tx <= sx:  # backwards (a rule suspecting a cause, an override): leave from the left
            x1 = sx
        bend = max(abs(x2 - x1) / 2, 40)
        colour = URGENT_LINE if edge.urgent else "#555"
        dash = {"dashed": ' stroke-dasharray="6 4"', "dotted": ' stroke-dasharray="2 3"'}.get(edge.style, "")
        label = f"<title>{escape(edge.label)}</title>" if edge.label else ""
        out.append(
            f'<path d="M{x1:.0f},{y1:.0f} C{x1 + bend if tx > sx else x1 - bend:.0f},{y1:.0f} '
            f'{x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" fill="none" stroke="{colour}"'
            f'{dash} stroke-width="{2 if edge.urgent else 1}" marker-end="url(#arrow)">{label}</path>'
        )
    for node in graph.nodes:
        x, y, height = boxes[node.id]
        fill = URGENT_FILL if node.urgent and node.kind == "refer" else _FILLS[node.kind]
        stroke = URGENT_LINE if node.urgent else "#777"
        radius = 14 if node.kind == "fact" else 4
        out.append(
            f'<g class="node {node.kind}"><rect x="{x}" y="{y}" width="{_BOX_WIDTH}" height="{height}" '
            f'rx="{radius}" fill="{fill}" stroke="{stroke}" stroke-width="{2 if node.urgent else 1}"/>'
        )
        for i, line in enumerate(node.label.split("\n")):
            shown = line if len(line) <= 28 else line[:27] + "…"
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{x + 8}" y="{y + 18 + i * _LINE_HEIGHT}"{weight}>{escape(shown)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
