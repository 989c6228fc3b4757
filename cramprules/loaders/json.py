"""Built-in plugin: facts from JSON, one object or a list of objects, or JSON Lines.

A key given twice in one object is an error naming both values: JSON
parsers usually keep the last one silently, which could drop the fact that
mattered.  An error in JSON Lines names the line of the file it is on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from cramprules.exceptions import FactError, shorten, show_value
from cramprules.facts import describe_kind
from cramprules.hookspecs import hookimpl

__all__ = ["load"]


class _Duplicate(Exception):
    def __init__(self, key: str, first: object, second: object) -> None:
        self.key, self.first, self.second = key, first, second


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object that refuses a key given twice."""
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key, out[key], value)
        out[key] = value
    return out


def _loads(text: str) -> object:
    return json.loads(text, object_pairs_hook=_object)


def load(text: str) -> list[Mapping[str, object]]:
    """An object is one fact set; a list of objects is many; JSON Lines works too."""
    text = text.removeprefix("\ufeff")
    try:
        data = _loads(text)
    except RecursionError:
        raise FactError("the JSON facts nest too deeply to be fact records", fact="") from None
    except _Duplicate as exc:
        raise _duplicate(exc, None) from None
    except json.JSONDecodeError as first:
        if first.msg == "Extra data" and text.count("\n") >= 1:
            return _lines(text)
        raise FactError(
            f"the JSON facts are not valid JSON: {first.msg} at line {first.lineno}, column {first.colno}",
            fact="",
        ) from None
    if isinstance(data, list):
        return [_record(item, i) for i, item in enumerate(data)]
    return [_record(data, 0)]


def _lines(text: str) -> list[Mapping[str, object]]:
    """JSON Lines: one object per line, blank lines skipped; an error names its line in the file."""
    records: list[Mapping[str, object]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = _loads(line)
        except RecursionError:
            raise FactError(f"line {number} of the JSON Lines facts nests too deeply", fact="") from None
        except _Duplicate as exc:
            raise _duplicate(exc, number) from None
        except json.JSONDecodeError as exc:
            raise FactError(
                f"line {number} of the JSON Lines facts is not valid JSON: {exc.msg} at column {exc.colno}",
                fact="",
            ) from None
        records.append(_record(item, len(records), line=number))
    return records


def _duplicate(exc: _Duplicate, line: int | None) -> FactError:
    where = f"line {line} of the JSON Lines facts gives" if line is not None else "the JSON facts give"
    return FactError(
        f"{where} '{shorten(exc.key)}' twice, as {show_value(exc.first)} and as "
        f"{show_value(exc.second)}; give it once",
        fact=exc.key,
    )


def _record(item: object, index: int, line: int | None = None) -> Mapping[str, object]:
    if not isinstance(item, dict):
        where = f" (line {line})" if line is not None else ""
        raise FactError(
            f"record {index}{where} of the JSON facts is {describe_kind(item)}, not an object; "
            'each record is an object such as {"pain": 7}',
            fact="",
        )
    return item


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"json": load, "jsonl": load}
