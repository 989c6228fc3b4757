"""Built-in plugin: facts from TOML.

A document is one fact set (``pain = 7``), or, when its only key is
``records``, an array of tables with one fact set each::

    [[records]]
    pain = 7

    [[records]]
    constipation = true

TOML has no top-level array, hence the named key; ``records`` is the one
name a fact cannot take in a TOML file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from cramprules.exceptions import FactError
from cramprules.hookspecs import hookimpl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["RECORDS_KEY", "load"]

RECORDS_KEY = "records"


def load(text: str) -> list[Mapping[str, object]]:
    """A table is one fact set; ``[[records]]`` tables are many."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FactError(f"the TOML facts are not valid TOML: {exc}", fact="") from None
    except RecursionError:
        raise FactError("the TOML facts are nested too deeply to read", fact="") from None
    if RECORDS_KEY not in data:
        return [data] if data else []
    records = data[RECORDS_KEY]
    others = sorted(k for k in data if k != RECORDS_KEY)
    if others:
        raise FactError(
            f"the TOML facts have both [[{RECORDS_KEY}]] and the top-level keys {', '.join(others)}; "
            f"put every fact inside a [[{RECORDS_KEY}]] table",
            fact=others[0],
        )
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FactError(
            f"'{RECORDS_KEY}' in the TOML facts must be an array of tables: write [[{RECORDS_KEY}]] "
            "above each fact set",
            fact=RECORDS_KEY,
        )
    return list(records)


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"toml": load}
