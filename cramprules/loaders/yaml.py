"""Built-in plugin: facts from YAML, one mapping or a list of mappings.

Read with ``yaml.safe_load_all``, which builds only plain data: a facts file
can never construct Python objects.  Several documents (``---``) add up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cramprules.exceptions import FactError
from cramprules.hookspecs import hookimpl

__all__ = ["load"]


def load(text: str) -> list[Mapping[str, object]]:
    """A mapping is one fact set; a list of mappings is many; an empty file, none."""
    import yaml  # imported when YAML is read: start-up of every other command stays short

    records: list[Mapping[str, object]] = []
    try:
        for document in yaml.safe_load_all(text):
            if document is None:
                continue
            items = document if isinstance(document, list) else [document]
            for item in items:
                records.append(_record(item, len(records)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise FactError(f"the YAML facts are not valid YAML: {problem}{where}", fact="") from None
    except yaml.YAMLError as exc:
        raise FactError(f"the YAML facts are not valid YAML: {exc}", fact="") from None
    except RecursionError:
        raise FactError("the YAML facts are nested too deeply to read", fact="") from None
    return records


def _record(item: object, index: int) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise FactError(
            f"record {index} of the YAML facts is a {_kind(item)}; "
            "each record is a mapping such as 'pain: 7'",
            fact="",
        )
    for key in item:
        if not isinstance(key, str):
            raise FactError(
                f"record {index} of the YAML facts has the key {key!r}, which is not a fact name",
                fact=str(key),
            )
    return item


def _kind(item: object) -> str:
    return {str: "text", int: "number", float: "number", bool: "yes/no value"}.get(
        type(item), type(item).__name__
    )


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"yaml": load, "yml": load}
