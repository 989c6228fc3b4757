"""Built-in plugin: the rulesets shipped with cramprules (``leg_cramps``)."""

from __future__ import annotations

from pathlib import Path

from cramprules._resources import data_dir
from cramprules.hookspecs import hookimpl


@hookimpl
def cramprules_rulesets() -> dict[str, Path]:
    """Every top-level ``.cramp`` file of ``rulesets/``, by its stem."""
    return {path.stem: path for path in sorted(data_dir("rulesets").glob("*.cramp"))}
