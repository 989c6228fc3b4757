# mypy: disable-error-code="empty-body"
"""The hooks a cramprules plugin can implement.

A plugin is any object or module with functions decorated by
:data:`cramprules.hookimpl` whose names match these specifications.  Installed
plugins are found through the ``cramprules`` entry-point group; the built-in
formats, loaders and the bundled ruleset are plugins too, registered through
these same hooks.  A hook implementation may accept fewer arguments than the
specification lists.  Every hook is called through pluggy (``pm.hook.<name>``),
so ``tryfirst``, ``trylast`` and wrappers (``wrapper=True`` or the older
``hookwrapper=True``) work as they do in pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset
    from cramprules.units import Substance

__all__ = [
    "cramprules_convert_units",
    "cramprules_derive_facts",
    "cramprules_extend",
    "cramprules_formats",
    "cramprules_functions",
    "cramprules_loaders",
    "cramprules_report",
    "cramprules_rulesets",
    "cramprules_substances",
    "hookimpl",
    "hookspec",
]

hookspec = pluggy.HookspecMarker("cramprules")
hookimpl = pluggy.HookimplMarker("cramprules")


@hookspec
def cramprules_rulesets() -> Mapping[str, str | Path]:
    """Offer named rulesets: ``{name: DSL text or path to a .cramp file}``.

    A path's ``include`` statements resolve inside the path's directory.
    Two plugins offering the same name is an error naming both.
    """


@hookspec
def cramprules_extend(ruleset: str) -> Sequence[str | Path] | None:
    """Add to the ruleset called ``ruleset`` when it is loaded.

    Return DSL fragments (text, or paths to ``.cramp`` files) declaring facts,
    options, causes, sources and rules.  They are checked with the ruleset, and
    their errors name the plugin.  Return ``None`` or ``[]`` for other rulesets.
    """


@hookspec
def cramprules_functions() -> Mapping[str, Callable[..., object]]:
    """Offer functions that conditions can call: ``{name: callable}``.

    Arguments and results are bool, number, text, or ``None`` for unknown.  A
    function used as a test returns a bool; one compared with a number returns
    a number.  Unknown function names are reported when a ruleset is loaded.
    """


@hookspec
def cramprules_derive_facts(facts: Mapping[str, object], ruleset: Ruleset) -> Mapping[str, object] | None:
    """Compute facts from the input before evaluation, or return ``None``.

    ``facts`` is the input as given (read-only).  The derived facts must be
    declared in the ruleset; a value given in the input is never replaced.
    """


@hookspec
def cramprules_formats() -> Mapping[str, Callable[..., str]]:
    """Offer output formats: ``{name: callable(report) -> str}``.

    A format may accept keyword options; ``audience`` (``"patient"`` or
    ``"clinician"``) is passed to those that accept it.
    """


@hookspec
def cramprules_loaders() -> Mapping[str, Callable[[str], Sequence[Mapping[str, object]]]]:
    """Offer input formats for facts: ``{suffix: callable(text) -> [facts, ...]}``.

    ``suffix`` is a file suffix in lower case without the leading dot, such as
    ``"json"``, or a compound one such as ``"fhir.json"``: a file is read by
    the loader of the longest suffix it ends with.  A record may name whose it
    is under ``"@id"`` (:data:`cramprules.facts.RECORD_ID`), which is not a fact.
    """


@hookspec
def cramprules_report(report: Report) -> None:
    """See every finished report: for audit logs or metrics.  The result is ignored."""


@hookspec
def cramprules_substances() -> Mapping[str, Substance] | None:
    """Describe what number facts measure: ``{fact: Substance(...)}``.

    A :class:`~cramprules.units.Substance` gives the molar mass and charge
    that convert a result between mass, molar and equivalent units, the
    units results usually come in, and their usual span (a bare number
    outside it is an error suggesting the unit meant).  Two plugins
    describing the same fact is an error naming both.
    """


@hookspec(firstresult=True)
def cramprules_convert_units(
    value: float, unit: str, to_unit: str, substance: Substance | None
) -> float | None:
    """Convert ``value`` from ``unit`` to ``to_unit`` (UCUM), or return ``None`` if you cannot.

    ``substance`` is the fact's :class:`~cramprules.units.Substance`, when a
    plugin describes it (``None`` otherwise).  The first answer that is not
    ``None`` wins; the built-in ``units`` plugin (pint) answers last.
    """
