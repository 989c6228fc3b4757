"""SARIF 2.1.0 output of ``cramprules check``, for code-scanning tools.

One run, one tool (``cramprules``), one reporting rule per finding code, one
result per finding.  Severities map to SARIF levels: error -> ``error``,
warning -> ``warning``, info -> ``note``.  Findings without a file on disk
(plugin fragments, ``<string>``) keep their origin as the artifact URI;
a location without a line is left without a region, as SARIF allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any as AnyType

from cramprules._version import __version__
from cramprules.authoring.lint import CODES, CheckResult
from cramprules.exceptions import Diagnostic

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "to_sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP_URI = "https://github.com/cramprules/cramprules/blob/main/docs/authoring.md#finding-codes"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(origin: str | None) -> str:
    if not origin:
        return "unknown"
    if origin.startswith("<"):
        return origin
    path = Path(origin)
    return path.as_posix() if not path.is_absolute() else path.as_uri()


def _result(diagnostic: Diagnostic, rule_index: int) -> dict[str, AnyType]:
    text = diagnostic.message
    if diagnostic.hint:
        text += f" (hint: {diagnostic.hint})"
    physical: dict[str, AnyType] = {"artifactLocation": {"uri": _uri(diagnostic.origin)}}
    if diagnostic.line is not None:
        region: dict[str, int] = {"startLine": diagnostic.line}
        if diagnostic.column is not None:
            region["startColumn"] = diagnostic.column
            if diagnostic.end_column is not None and diagnostic.end_column > diagnostic.column:
                region["endColumn"] = diagnostic.end_column
        physical["region"] = region
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[diagnostic.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
    }


def _descriptor(code: str, severity: str) -> dict[str, AnyType]:
    known = CODES.get(code)
    summary = known.summary if known else f"The ruleset does not load: {code.replace('-', ' ')}."
    return {
        "id": code,
        "name": "".join(part.capitalize() for part in code.split("-")),
        "shortDescription": {"text": summary},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": _LEVELS[known.severity if known else severity]},
    }


def to_sarif(results: Iterable[CheckResult]) -> Mapping[str, AnyType]:
    """A SARIF log of every finding of every checked ruleset."""
    findings = [d for result in results for d in result.findings]
    rules: dict[str, int] = {}
    descriptors: list[dict[str, AnyType]] = []
    for diagnostic in findings:
        if diagnostic.code not in rules:
            rules[diagnostic.code] = len(descriptors)
            descriptors.append(_descriptor(diagnostic.code, diagnostic.severity))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cramprules",
                        "version": __version__,
                        "informationUri": "https://github.com/cramprules/cramprules",
                        "rules": descriptors,
                    }
                },
                "results": [_result(d, rules[d.code]) for d in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
