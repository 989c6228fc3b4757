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
