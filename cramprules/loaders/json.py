"""Built-in plugin: facts from JSON, one object or a list of objects."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from cramprules.exceptions import FactError
from cramprules.hookspecs import hookimpl


def load(text: str) -> list[Mapping[str, object]]:
    """An object is one fact set; a list of objects is many; JSON Lines works too."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise FactError("the JSON facts nest too deeply to be fact records", fact="") from None
    except json.JSONDecodeError as first:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:
            try:
                return [_record(json.loads(line), i) for i, line in enumerate(lines)]
            except json.JSONDecodeError:
                pass
        raise FactError(
            f"the JSON facts are not valid JSON: {first.msg} at line {first.lineno}, column {first.colno}",
            fact="",
        ) from None
    if isinstance(data, list):
        return [_record(item, i) for i, item in enumerate(data)]
    return [_record(data, 0)]


def _record(item: object, index: int) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise FactError(
            f"record {index} of the JSON facts is a {type(item).__name__}; "
            'each record is an object such as {"pain": 7}',
            fact="",
        )
    return item


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"json": load, "jsonl": load}
