"""cramprules-fhir: facts from FHIR R4 in (a Bundle, or a list of resources), CDS Hooks cards out.

Two hooks:

* ``cramprules_loaders`` offers the loader ``fhir`` (``--facts-format fhir``)
  and the compound suffix ``fhir.json`` (files named ``*.fhir.json``).  A plain
  ``.json`` file stays with the built-in JSON loader: the engine picks the
  longest suffix a loader registers, so the two never collide.
* ``cramprules_formats`` offers ``cds-hooks``.

The loader and its code lists (``cramprules_fhir/data``) load only when FHIR
is read, so listing plugins or rendering text pays nothing for them.  Each
record it returns names its patient under ``"@id"`` (``"Patient/123"``);
:func:`cramprules_fhir.loader.patients` gives the same as objects.
"""

from __future__ import annotations

from collections.abc import Callable

from cramprules import hookimpl

__all__ = ["__version__"]
__version__ = "0.1.0"


def _load(text: str) -> list[dict[str, object]]:
    from cramprules_fhir.loader import load

    return load(text)


def _render(report: object, *, audience: str = "clinician") -> str:
    from cramprules_fhir.cards import render

    return render(report, audience=audience)  # type: ignore[arg-type]


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[dict[str, object]]]]:
    return {"fhir": _load, "fhir.json": _load}


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"cds-hooks": _render}
