"""Built-in plugin: facts from YAML, one mapping or a list of mappings.

Read with PyYAML's safe loader, which builds only plain data: a facts file
can never construct Python objects.  Several documents (``---``) add up.
Aliases are counted as if expanded, and a document that would grow past
:data:`MAX_NODES` values (a "billion laughs" alias bomb) is refused before
it is built.  A key given twice in one mapping is an error naming both
values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import yaml

from cramprules.exceptions import FactError, shorten, show_value
from cramprules.facts import describe_kind
from cramprules.hookspecs import hookimpl

__all__ = ["MAX_NODES", "load"]

MAX_NODES = 100_000
"""The most values one YAML document may hold with every alias expanded."""


class _TooBig(Exception):
    pass


class _Duplicate(Exception):
    def __init__(self, key: object, first: object, second: object, line: int) -> None:
        self.key, self.first, self.second, self.line = key, first, second, line


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types here
    """The safe loader, measuring each document before it is built and refusing duplicate keys."""

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _measure(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        self.flatten_mapping(node)
        seen: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            value = self.construct_object(value_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the usual error below
                return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]
            if duplicate:
                raise _Duplicate(key, seen[key], value, key_node.start_mark.line + 1)
            seen[key] = value
        return seen


def _measure(root: yaml.Node) -> None:
    """Count the values of a document as if its aliases were expanded; linear in its nodes."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack: list[yaml.Node] = [root]
    while stack:  # post-order without recursion: children before their parent
        node = stack.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = 0
        order.append(node)
        stack.extend(_children(node))
    for node in reversed(order):
        total = 1 + sum(sizes[id(child)] for child in _children(node))
        if total > MAX_NODES:
            raise _TooBig
        sizes[id(node)] = total


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load(text: str) -> list[Mapping[str, object]]:
    """A mapping is one fact set; a list of mappings is many; an empty file, none."""
    records: list[Mapping[str, object]] = []
    try:
        for document in yaml.load_all(text, Loader=_Loader):  # a SafeLoader subclass: plain data only
            if document is None:
                continue
            items = document if isinstance(document, list) else [document]
            for item in items:
                records.append(_record(item, len(records)))
    except _TooBig:
        raise FactError(
            f"the YAML facts hold more than {MAX_NODES:,} values once their aliases are expanded",
            fact="",
        ) from None
    except _Duplicate as exc:
        raise FactError(
            f"line {exc.line} of the YAML facts gives '{shorten(str(exc.key))}' twice, as "
            f"{show_value(exc.first)} and as {show_value(exc.second)}; give it once",
            fact=str(exc.key),
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = shorten(exc.problem or exc.context or "invalid YAML")
        raise FactError(f"the YAML facts are not valid YAML: {problem}{where}", fact="") from None
    except yaml.YAMLError as exc:
        raise FactError(f"the YAML facts are not valid YAML: {shorten(str(exc))}", fact="") from None
    except RecursionError:
        raise FactError("the YAML facts are nested too deeply to read", fact="") from None
    return records


def _record(item: object, index: int) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise FactError(
            f"record {index} of the YAML facts is {describe_kind(item)}, not a mapping; "
            "each record is a mapping such as 'pain: 7'",
            fact="",
        )
    for key in item:
        if not isinstance(key, str):
            raise FactError(
                f"record {index} of the YAML facts has the key {show_value(key)}, which is not a fact name",
                fact=shorten(str(key)),
            )
    return item


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"yaml": load, "yml": load}
