"""Built-in plugin: the report as JSON, laid out by the versioned report schema."""

from __future__ import annotations

from collections.abc import Callable

from cramprules.hookspecs import hookimpl
from cramprules.report import Report


def render(report: Report) -> str:
    """``report.to_dict()`` as indented JSON: byte-identical for the same input."""
    return report.to_json()


@hookimpl
def cramprules_formats() -> dict[str, Callable[..., str]]:
    return {"json": render}
