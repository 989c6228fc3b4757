"""cramprules: a rules engine for cited, explainable health recommendations.

>>> import cramprules
>>> rs = cramprules.parse_ruleset(
...     "if constipation and long_term then prefer citrate unless bedtime")
>>> report = rs.evaluate({"constipation": True, "long_term": True})
>>> [(r.action, r.option, r.status) for r in report.recommendations]
[('prefer', 'citrate', 'conditional')]
>>> [q.fact for q in report.questions]
['bedtime']

Importing this package reads no files and loads no plugins: the default
:class:`Engine` is made the first time a module-level function needs it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cramprules._version import __version__
from cramprules.exceptions import (
    CramprulesError,
    Diagnostic,
    FactError,
    PluginError,
    RulesetError,
    RulesetSyntaxError,
    UnknownRuleset,
)

if TYPE_CHECKING:
    from cramprules.engine import Engine
    from cramprules.hookspecs import hookimpl
    from cramprules.limits import Limits
    from cramprules.report import (
        Cause,
        Question,
        Recommendation,
        Referral,
        Report,
        Source,
        TraceEntry,
        WhatIf,
    )
    from cramprules.ruleset import Ruleset

__all__ = [
    "Cause",
    "CramprulesError",
    "Diagnostic",
    "Engine",
    "FactError",
    "Limits",
    "PluginError",
    "Question",
    "Recommendation",
    "Referral",
    "Report",
    "Ruleset",
    "RulesetError",
    "RulesetSyntaxError",
    "Source",
    "TraceEntry",
    "UnknownRuleset",
    "WhatIf",
    "__version__",
    "default_engine",
    "default_ruleset",
    "hookimpl",
    "load_ruleset",
    "parse_ruleset",
    "render",
]

_LAZY = {
    "Engine": "cramprules.engine",
    "Limits": "cramprules.limits",
    "Ruleset": "cramprules.ruleset",
    "Report": "cramprules.report",
    "Recommendation": "cramprules.outcomes",
    "Cause": "cramprules.outcomes",
    "Referral": "cramprules.outcomes",
    "Question": "cramprules.outcomes",
    "TraceEntry": "cramprules.outcomes",
    "Source": "cramprules.outcomes",
    "WhatIf": "cramprules.outcomes",
}

_default: Engine | None = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> object:
    """Import the heavier modules (lark, the compiler) only when first used."""
    if name == "hookimpl":
        from cramprules.hookspecs import hookimpl

        globals()["hookimpl"] = hookimpl
        return hookimpl
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cramprules' has no attribute {name!r}")


def default_engine() -> Engine:
    """The engine behind the module-level functions, made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            from cramprules.engine import Engine

            _default = Engine()
        return _default


def parse_ruleset(
    text: str,
    origin: str = "<string>",
    *,
    base_dir: str | Path | None = None,
    include_testing: bool = False,
) -> Ruleset:
    """Check and compile ruleset text.  ``origin`` names it in error messages."""
    return default_engine().parse_ruleset(text, origin, base_dir=base_dir, include_testing=include_testing)


def load_ruleset(path_or_name: str | Path, *, include_testing: bool = False) -> Ruleset:
    """Load a ruleset from a ``.cramp`` file or by name (``"leg_cramps"``)."""
    return default_engine().load_ruleset(path_or_name, include_testing=include_testing)


def default_ruleset(*, include_testing: bool = False) -> Ruleset:
    """The bundled leg-cramps ruleset, with the extensions of installed plugins."""
    return default_engine().default_ruleset(include_testing=include_testing)


def render(report: Report, format: str = "text", **options: object) -> str:
    """Render a report in a registered format: text, json, markdown, html, ..."""
    return default_engine().render(report, format, **options)
