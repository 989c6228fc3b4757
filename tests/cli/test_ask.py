"""``cramprules ask``: a consultation driven by scripted answers on stdin."""

from __future__ import annotations

import json
import re

import pytest


def _prompts(stderr: str) -> list[str]:
    """The questions asked, in order (one per prompt, repeats included)."""
    return re.findall(r"^\d+\. (.*) \[[^\[\]]* or \?\] ", stderr, flags=re.MULTILINE)


def test_most_decisive_first_and_the_report_at_the_end(run, mini):
    result = run("ask", str(mini), "--format", "json", input="3\nno\nno\n")
    assert result.exit_code == 0, result.output
    asked = _prompts(result.stderr)
    # the fact that could mean "see a doctor" comes first
    assert asked[0] == "How painful is the worst cramp (0-10)?"
    report = json.loads(result.stdout)  # prompts never reach stdout
    assert report["facts"]["pain"] == 3


def test_asks_only_questions_that_can_change_the_outcome(run, mini):
    # with kidney disease, magnesium is avoided whatever else is true:
    # constipation and bedtime no longer matter and are never asked
    # (kidney disease comes first: it could rule out the glycinate already shown)
    answers = "yes\n3\nnight\nno\n"
    result = run("ask", str(mini), "--fact", "long_term", "-f", "json", input=answers)
    asked = _prompts(result.stderr)
    assert asked == [
        "Do you have kidney disease?",
        "How painful is the worst cramp (0-10)?",
        "When do the cramps happen?",
        "Do you take diuretics (water pills)?",
    ]
    assert "stopped at end of input" not in result.stderr  # it ran out of questions that matter
    report = json.loads(result.stdout)
    assert {r["option"] for r in report["recommendations"] if r["action"] == "avoid"} == {
        "citrate",
        "glycinate",
    }


def test_invalid_answers_are_asked_again_with_the_allowed_values(run, mini):
    result = run("ask", str(mini), "-f", "json", input="eleven\n11\n9\nmaybe\nno\n")
    assert result.exit_code == 0
    asked = _prompts(result.stderr)
    assert asked[:3] == ["How painful is the worst cramp (0-10)?"] * 3
    assert "pain takes a number from 0 to 10" in result.stderr
    assert "out of range" in result.stderr
    assert "Please answer 0-10, or ? if you don't know." in result.stderr
    assert "Please answer yes/no, or ? if you don't know." in result.stderr
    report = json.loads(result.stdout)
    assert report["facts"]["pain"] == 9
    assert report["referrals"][0]["urgent"] is True


@pytest.mark.parametrize("dont_know", ["?", "", "don't know", "idk", "unknown", "Skip"])
def test_dont_know_leaves_the_fact_unknown_and_never_asks_it_again(run, mini, dont_know):
    result = run("ask", str(mini), "-f", "json", input=f"{dont_know}\n" + "no\n" * 10)
    assert result.exit_code == 0
    asked = _prompts(result.stderr)
    assert asked.count("How painful is the worst cramp (0-10)?") == 1
    report = json.loads(result.stdout)
    assert "pain" not in report["facts"]
    assert "pain" in [q["fact"] for q in report["questions"]]


def test_end_of_input_ends_with_the_report_so_far(run, mini):
    result = run("ask", str(mini), "-f", "json", input="9\n")
    assert result.exit_code == 0
    assert "stopped at end of input" in result.stderr
    report = json.loads(result.stdout)
    assert report["facts"] == {"pain": 9}
    assert report["questions"]


def test_no_input_at_all(run, mini):
    result = run("ask", str(mini), "-f", "json", input="")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["facts"] == {}


def test_enum_by_name_or_number(run, mini):
    by_name = run(
        "ask",
        str(mini),
        "--fact",
        "pain=1",
        "--fact",
        "kidney_disease=no",
        "--fact",
        "diuretics=no",
        "--fact",
        "long_term=no",
        "-f",
        "json",
        input="Night\n",
    )
    by_number = run(
        "ask",
        str(mini),
        "--fact",
        "pain=1",
        "--fact",
        "kidney_disease=no",
        "--fact",
        "diuretics=no",
        "--fact",
        "long_term=no",
        "-f",
        "json",
        input="1\n",
    )
    assert json.loads(by_name.stdout)["facts"]["timing"] == "night"
    assert json.loads(by_number.stdout)["facts"]["timing"] == "night"
    assert "[night/workout/walking or ?]" in by_name.stderr


def test_why_shows_the_rules_a_question_decides(run, mini):
    result = run("ask", str(mini), "-f", "json", input="why\n3\n")
    assert "It decides rule red_flags" in result.stderr
    assert "if pain >= 8 then refer doctor urgent" in result.stderr
    assert _prompts(result.stderr)[:2] == ["How painful is the worst cramp (0-10)?"] * 2


def test_the_answers_are_echoed_when_stdin_is_not_a_terminal(run, mini):
    result = run("ask", str(mini), "-f", "json", input="3\n")
    assert "1. How painful is the worst cramp (0-10)? [0-10 or ?] 3\n" in result.stderr


def test_starts_from_the_facts_given(run, mini):
    result = run("ask", str(mini), "--fact", "pain=9", "-f", "json", input="")
    assert "How painful" not in result.stderr
    assert json.loads(result.stdout)["referrals"][0]["urgent"] is True


def test_bad_starting_fact_is_an_input_error(run, mini):
    result = run("ask", str(mini), "--fact", "painn=9", input="")
    assert result.exit_code == 2
    assert "did you mean 'pain'?" in result.stderr


def test_answers_file_replays_with_eval(run, mini, tmp_path):
    saved = tmp_path / "answers.json"
    script = "3\n?\nyes\nyes\nno\nnight\n"
    asked = run(
        "ask", str(mini), "--fact", "constipation", "-f", "json", "--answers", str(saved), input=script
    )
    assert asked.exit_code == 0, asked.output
    answers = json.loads(saved.read_text())
    assert answers["constipation"] is True
    assert answers["pain"] == 3
    assert None in answers.values()  # the "don't know", saved as null
    replayed = run("eval", str(mini), "--facts", str(saved), "-f", "json")
    assert replayed.exit_code == 0
    assert replayed.stdout == asked.stdout


def test_answers_refuses_stdout_and_stdin_facts(run, mini):
    assert run("ask", str(mini), "--answers", "-", input="").exit_code == 2
    result = run("ask", str(mini), "--facts", "-", input="{}")
    assert result.exit_code == 2
    assert "answers come from stdin" in result.stderr


def test_text_report_and_output_file(run, mini, tmp_path):
    out = tmp_path / "report.txt"
    result = run("ask", str(mini), "-o", str(out), input="9\n")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "SEE A DOCTOR URGENTLY" in out.read_text()


def test_default_ruleset_asks_about_red_flags_first(run, app):
    result = run("ask", "-f", "json", input="")
    assert result.exit_code == 0
    first = json.loads(result.stdout)["questions"][0]
    assert _prompts(result.stderr) == [first["prompt"]]
    program = app.engine.default_ruleset().program
    assert any(program.rule(name).urgent for name in first["affects"])


def test_prompts_in_colour_on_a_terminal_unless_no_color(mini, monkeypatch):
    import click.testing

    import cramprules
    from cramprules.cli import App, cli

    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)

    def ask(no_color: str) -> str:
        app = App(engine=cramprules.Engine(autoload=False))
        result = click.testing.CliRunner().invoke(
            cli,
            ["ask", str(mini), "-f", "json"],
            obj=app,
            input="3\n",
            color=True,
            env={"NO_COLOR": no_color},
        )
        json.loads(result.stdout)  # never colour in the JSON
        return result.stderr

    assert "\x1b[1m" in ask("")
    assert "\x1b[" not in ask("1")


def test_clinician_audience(run, mini):
    result = run("ask", str(mini), "--audience", "clinician", input="9\n")
    assert "Exclude DVT" in result.stdout
