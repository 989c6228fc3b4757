"""Commands that work on many files show progress on a terminal, and only there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def three_rulesets(tmp_path: Path, mini: Path) -> list[str]:
    names = []
    for i in range(3):
        target = tmp_path / f"r{i}.cramp"
        shutil.copy(mini, target)
        names.append(str(target))
    return names


@pytest.mark.parametrize(
    ("args", "label"),
    [(["check"], "Checking"), (["test"], "Testing"), (["fmt", "--check"], "Formatting")],
)
def test_a_progress_bar_on_a_terminal_only(run, monkeypatch, three_rulesets, args, label):
    piped = run(*args, *three_rulesets)
    assert label not in piped.stderr
    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)
    shown = run(*args, *three_rulesets)
    assert label in shown.stderr
    assert shown.exit_code == piped.exit_code
    assert shown.stdout == piped.stdout


def test_no_progress_bar_for_a_single_file(run, monkeypatch, mini):
    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)
    assert "Checking" not in run("check", str(mini)).stderr
