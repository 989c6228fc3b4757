"""Finds ``grammar/`` and ``rulesets/``, in a wheel and in a checkout alike.

The wheel carries both under ``cramprules/_data/``; an editable install
imports the package from the checkout, where they sit at the root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["data_dir"]


def data_dir(name: Literal["grammar", "rulesets"]) -> Path:
    """The directory holding the shipped grammar or the bundled rulesets."""
    package = Path(__file__).resolve().parent
    packaged = package / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = package.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - a broken installation
        f"cramprules cannot find its {name!r} directory; reinstall the package"
    )


def display_path(path: Path) -> str:
    """How a ruleset file is named in messages and reports.

    A bundled file is ``rulesets/...`` wherever the package is installed, so
    reports and traces read the same from a wheel and from a checkout; any
    other file is named relative to the working directory when it is below it.
    """
    resolved = path.resolve()
    try:
        bundled = data_dir("rulesets").resolve()
    except FileNotFoundError:  # pragma: no cover - a broken installation
        bundled = None
    if bundled is not None and resolved.is_relative_to(bundled):
        return (Path("rulesets") / resolved.relative_to(bundled)).as_posix()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
