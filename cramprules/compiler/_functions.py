"""Plugin functions as conditions call them: checked, and naming their plugin on failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cramprules.exceptions import PluginError

__all__ = ["Functions", "NeedsKleene", "checked_function"]

Functions = Mapping[str, tuple[Callable[..., object], str]]
"""Function name -> (callable, name of the plugin that provides it)."""


class NeedsKleene(Exception):
    """A function answered 'unknown' inside the two-valued decider."""


_RESULT_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "number": (int, float),
    "any": (bool, int, float, str),
}
_RESULT_WORDS = {"bool": "a bool", "number": "a number", "any": "a bool, a number or a text"}


def checked_function(
    name: str,
    function: Callable[..., object],
    plugin: str,
    *,
    result: str = "bool",
    strict: bool = False,
) -> Callable[..., object]:
    """Wrap a plugin function so that a failure or a bad result names the plugin.

    ``result`` is what the call's place in the condition needs: ``bool`` as a
    test, ``number`` in a comparison.  ``strict`` (the two-valued decider)
    turns an 'unknown' answer into :class:`NeedsKleene`, which sends the
    record to the three-valued decider.
    """
    wanted = _RESULT_TYPES[result]
    refuse_bool = result == "number"

    def call(*args: object) -> object:
        try:
            answer = function(*args)
        except Exception as exc:
            raise PluginError(
                f"function '{name}' from plugin '{plugin}' failed: {type(exc).__name__}: {exc}",
                plugin=plugin,
            ) from exc
        if answer is None:
            if strict:
                raise NeedsKleene
            return None
        if isinstance(answer, wanted) and not (refuse_bool and isinstance(answer, bool)):
            return answer
        raise PluginError(
            f"function '{name}' from plugin '{plugin}' returned {type(answer).__name__} {answer!r} "
            f"where {_RESULT_WORDS[result]} (or None for unknown) is needed",
            plugin=plugin,
        )

    call.__name__ = f"cramprules_function_{name}"
    return call
