"""The decision log: one JSON line per decision, for audit and monitoring.

A line says what was decided and by what (ruleset name, version and hash,
engine version), for which call (endpoint, hook instance) and how fast; the
outcome is summarised by names (options, causes, referral targets), never by
the patient's facts.  Facts and the patient id are added only when the
deployment asks for them (``log_patient_data``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import IO, TYPE_CHECKING
from typing import Any as AnyType

if TYPE_CHECKING:
    from cramprules.report import Report

__all__ = ["DecisionLog", "outcome_summary"]


def outcome_summary(report: Report) -> dict[str, AnyType]:
    """What a report decided, by name only."""
    return {
        "urgent": report.urgent,
        "referrals": [r.to for r in report.referrals],
        "causes": [c.name for c in report.causes],
        "recommendations": [
            f"{r.action} {r.option}" + (" (conditional)" if r.status != "fired" else "")
            for r in report.recommendations
        ],
        "questions": len(report.questions),
    }


class DecisionLog:
    """Appends JSON lines to a file (or stderr), one write per line, under a lock."""

    def __init__(self, target: str, *, patient_data: bool = False) -> None:
        self.target = target
        self.patient_data = patient_data
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None

    def open(self) -> None:
        if self._stream is None:
            self._stream = sys.stderr if self.target == "-" else open(self.target, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and stream is not sys.stderr:
            stream.close()

    def write(self, record: dict[str, AnyType]) -> None:
        line = json.dumps(
            {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), **record},
            ensure_ascii=False,
            default=str,
        )
        with self._lock:
            if self._stream is None:
                self.open()
            assert self._stream is not None
            self._stream.write(line + "\n")
            self._stream.flush()

    def decision(
        self,
        report: Report,
        *,
        endpoint: str,
        latency_ms: float,
        hook: str | None = None,
        hook_instance: str | None = None,
        patient: str | None = None,
    ) -> None:
        ruleset = report.ruleset
        record: dict[str, AnyType] = {
            "event": "decision",
            "endpoint": endpoint,
            "ruleset": {"name": ruleset.name, "version": ruleset.version, "sha256": ruleset.sha256},
            "engine": {"name": "cramprules", "version": ruleset.engine_version},
            "hook": hook,
            "hookInstance": hook_instance,
            "outcome": outcome_summary(report),
            "latency_ms": round(latency_ms, 3),
        }
        if self.patient_data:
            record["patient"] = patient
            record["facts"] = report.facts
        self.write(record)
