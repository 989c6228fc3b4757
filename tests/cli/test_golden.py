"""Golden files: the text, markdown and explain output on a few leg-cramps cases.

Made against ``tests/cli/data/mini.cramp`` and the bundled ``leg_cramps``.
To accept an intended change::

    CRAMPRULES_UPDATE_GOLDEN=1 pytest tests/cli/test_golden.py
    git diff tests/cli/golden
"""

from __future__ import annotations

import pytest

CASES = {
    # the headline rule: conditional, with a conflict won by specificity
    "headline": ["constipation", "long_term"],
    # a red flag with advice and a suspected cause beside it
    "urgent": ["pain=9", "timing=night", "diuretics"],
    # avoid beats prefer by priority; a chained rule that did not match
    "kidney": ["diuretics", "kidney_disease", "long_term", "constipation", "bedtime=no"],
}


def _facts(words: list[str]) -> list[str]:
    return [arg for word in words for arg in ("--fact", word)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_text(run, in_data, golden, case):
    result = run("eval", "mini.cramp", *_facts(CASES[case]))
    assert result.exit_code == 0
    golden(f"{case}.text.txt", result.stdout)


@pytest.mark.parametrize("case", sorted(CASES))
def test_markdown(run, app, in_data, golden, case):
    if "markdown" not in app.engine.formats():
        pytest.skip("the markdown format is not registered")
    result = run("eval", "mini.cramp", *_facts(CASES[case]), "--format", "markdown")
    assert result.exit_code == 0
    golden(f"{case}.markdown.txt", result.stdout)


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain(run, in_data, golden, case):
    result = run("explain", "mini.cramp", *CASES[case])
    assert result.exit_code == 0
    golden(f"{case}.explain.txt", result.stdout)


def test_explain_clinician(run, in_data, golden):
    result = run("explain", "mini.cramp", *CASES["urgent"], "--audience", "clinician")
    golden("urgent.explain-clinician.txt", result.stdout)


def test_why_not(run, in_data, golden):
    result = run("explain", "mini.cramp", "constipation", "long_term", "bedtime=yes", "--why-not", "citrate")
    assert result.exit_code == 0
    golden("why-not-citrate.explain.txt", result.stdout)


# ---------------------------------------------------------------- the bundled ruleset

BUNDLED = {
    # constipated, long term, bedtime not answered: citrate, conditionally
    "leg-cramps-constipated": ["night_cramps", "constipation", "long_term", "kidney_disease=no"],
    # a red flag (a cramp over ten minutes) beside supplement advice: the urgent referral comes first
    "leg-cramps-red-flag": ["prolonged", "night_cramps", "long_term"],
    # extremely painful cramps: see a doctor, first, and never worded as urgent
    "leg-cramps-see-a-doctor": ["pain=9", "night_cramps", "long_term"],
    # kidney disease with constipation: no magnesium without a doctor
    "leg-cramps-kidney": ["kidney_disease", "constipation", "long_term", "bedtime=no"],
}


@pytest.mark.parametrize("case", sorted(BUNDLED))
@pytest.mark.parametrize("format_name", ["text", "markdown"])
def test_bundled_reports(run, golden, case, format_name):
    result = run("eval", *_facts(BUNDLED[case]), "--format", format_name)
    assert result.exit_code == 0
    golden(f"{case}.{format_name}.txt", result.stdout)


@pytest.mark.parametrize("case", sorted(BUNDLED))
def test_bundled_explanations(run, golden, case):
    result = run("explain", *BUNDLED[case])
    assert result.exit_code == 0
    golden(f"{case}.explain.txt", result.stdout)
