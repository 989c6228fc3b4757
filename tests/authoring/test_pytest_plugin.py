"""The pytest plugin, run on sample projects with ``pytester``."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

RULESET = """\
source berg "Dr. Eric Berg"
rule glycinate_long_term:
    if long_term
    then prefer glycinate over citrate
    because "Glycinate is gentle on the gut."
    cite berg

example "long term: glycinate":
    given long_term
    expect prefer glycinate

example "wrong on purpose":
    given not long_term
    expect prefer glycinate
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_examples_are_collected_and_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", clinic=RULESET)
    result = pytester.runpytest("-p", "cramprules", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*clinic.cramp::long term: glycinate PASSED*",
            "*clinic.cramp::wrong on purpose FAILED*",
        ]
    )


def test_a_failure_reads_like_cramprules_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", clinic=RULESET)
    result = pytester.runpytest("-p", "cramprules")
    result.stdout.fnmatch_lines(
        [
            '*example "wrong on purpose" (*clinic.cramp:12)',
            "  given long_term = no",
            "  expect prefer glycinate (line 14)",
            "    expected: 'prefer glycinate' (fired or conditional)",
            "    actual:   nothing about glycinate",
            "    - rule 'glycinate_long_term' (*clinic.cramp:2): not matched: long_term is no",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_examples_run_beside_python_tests(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", clinic=RULESET.split('example "wrong')[0])
    pytester.makepyfile(test_app="def test_app():\n    assert True\n")
    result = pytester.runpytest("-p", "cramprules")
    result.assert_outcomes(passed=2)


def test_a_ruleset_that_does_not_load_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".cramp",
        broken='fact constipation: bool\nif constipaton then recommend x\nexample "e": given constipation; expect recommend x\n',
    )
    result = pytester.runpytest("-p", "cramprules")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.cramp does not load:*", "*did you mean 'constipation'?*"])


def test_files_without_examples_and_included_files_are_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", plain="if a then recommend x\n")
    pytester.mkdir("parts")
    pytester.path.joinpath("main.cramp").write_text('include "parts/rules.cramp"\n')
    pytester.path.joinpath("parts", "rules.cramp").write_text(
        'if a then recommend x\nexample "a gives x": given a; expect recommend x\n'
    )
    result = pytester.runpytest("-p", "cramprules", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*main.cramp::a gives x PASSED*"])


def test_collection_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", clinic=RULESET)
    pytester.makeini("[pytest]\ncramprules_collect = false\n")
    result = pytester.runpytest("-p", "cramprules")
    result.assert_outcomes()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_k_selects_examples_by_label(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cramp", clinic=RULESET)
    result = pytester.runpytest("-p", "cramprules", "-k", "glycinate and not wrong")
    result.assert_outcomes(passed=1, deselected=1)
