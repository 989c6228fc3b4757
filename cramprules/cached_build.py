"""What a build kept in the compiled-ruleset cache depends on, and what its entry holds.

:mod:`cramprules.cache` stores and signs entries; the :class:`~cramprules.engine.Engine`
decides when to use one.  Between them: the texts and files a build read
(checked again before an entry is used), and the parts of a built ruleset an
entry keeps (its checked program, its compiled code, its recipe's texts).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any as AnyType

from cramprules import cache as _cache
from cramprules._resources import data_dir, display_path
from cramprules.checker import SourceText
from cramprules.compiler import Code
from cramprules.model import Program

if TYPE_CHECKING:
    from cramprules.cache import Entry
    from cramprules.recipe import Recipe
    from cramprules.ruleset import Ruleset

__all__ = ["code_of", "entry_of", "file_of", "function_signature", "manifest_of", "text_id"]


def text_id(text: SourceText) -> str:
    return _cache.fingerprint([text.origin, str(text.path), text.text])


def function_signature(function: object) -> str:
    try:
        return str(inspect.signature(function))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"


def manifest_of(
    main: SourceText, program: Program, asked: Mapping[str, Mapping[str, list[str]]]
) -> dict[str, AnyType] | None:
    """What a cached build depends on beyond its key: included files and plugin texts.

    Every text the program read is accounted for: the main one (in the key),
    those the plugins gave (checked by asking them again), and included
    files, found again from their origin.  None if one cannot be: such a
    build is not cached.
    """
    files: list[tuple[str, str]] = []
    for origin, text in program.texts:
        if origin == main.origin or origin.startswith("<"):
            continue  # the main text is in the key; plugin texts are in ``asked``
        path = file_of(origin)
        if path is None:
            return None
        files.append((str(path), _cache.text_hash(text)))
    return {"files": files, "fragments": dict(asked["fragments"]), "bases": dict(asked["bases"])}


def file_of(origin: str) -> Path | None:
    """The file a text with this origin was read from, if it is one."""
    candidates = [Path(origin)]
    if origin.startswith("rulesets/"):
        candidates.insert(0, data_dir("rulesets") / origin.removeprefix("rulesets/"))
    for candidate in candidates:
        try:
            if candidate.is_file() and display_path(candidate) == origin:
                return candidate.resolve()
        except OSError:
            continue
    return None


def _recipe_texts(recipe: Recipe | None) -> tuple[object, ...]:
    """What a cache entry keeps of a recipe: the texts; the plugins are the loading engine's."""
    if recipe is None:
        return ((), (), ())
    return (recipe.includes, recipe.bases, recipe.extensions)


def entry_of(ruleset: Ruleset, manifest: dict[str, AnyType]) -> dict[str, AnyType]:
    """What the cache keeps of a freshly built ruleset (its code completed first)."""
    from cramprules.ruleset import saved_state

    code = ruleset.compiled.code
    assert code is not None
    code = code.complete(f"<cramprules {ruleset.program.name}>")
    return {
        "manifest": manifest,
        "state": (*saved_state(ruleset), _recipe_texts(ruleset.recipe)),
        "deciders": tuple(part for part in code.deciders if part is not None),  # all, once complete
        "deciders_source": code.deciders_source,
        "recipes": code.recipes,
        "decisions": code.decisions,
        "decisions_source": code.decisions_source,
    }


def code_of(entry: Entry) -> Code:
    """The compiled code of a cache entry."""
    return Code(
        deciders=entry.deciders,
        deciders_source=entry.deciders_source,
        recipes=entry.recipes,
        decisions=entry.decisions,
        decisions_source=entry.decisions_source,
    )
