"""``cramprules eval``: facts in, a report out, in any format."""

from __future__ import annotations

import json

import pytest

import cramprules


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bare_fact_means_true(run, mini):
    report = _json(run("eval", str(mini), "--fact", "constipation", "--fact", "long_term", "-f", "json"))
    assert report["facts"] == {"constipation": True, "long_term": True}
    [rec] = report["recommendations"]
    assert (rec["action"], rec["option"], rec["status"], rec["depends_on"]) == (
        "prefer",
        "citrate",
        "conditional",
        ["bedtime", "kidney_disease"],
    )
    assert rec["caveat"] == "unless bedtime; unless 'avoid citrate' of rule 'kidney_caution' applies"


@pytest.mark.parametrize(
    ("arg", "fact", "value"),
    [
        ("pain=9", "pain", 9),
        ("pain=7.5", "pain", 7.5),
        ("bedtime=no", "bedtime", False),
        ("bedtime=YES", "bedtime", True),
        ("timing=Night", "timing", "night"),
    ],
)
def test_values_are_coerced_by_declared_type(run, mini, arg, fact, value):
    report = _json(run("eval", str(mini), "--fact", arg, "-f", "json"))
    assert report["facts"] == {fact: value}


def test_unknown_leaves_a_fact_unknown(run, mini):
    report = _json(run("eval", str(mini), "--fact", "pain=unknown", "-f", "json"))
    assert report["facts"] == {}
    assert report["questions"][0]["fact"] == "pain"


def test_one_fact_set_errors_carry_no_record_number(run, mini):
    result = run("eval", str(mini), "--fact", "pian=9")
    assert result.stderr == "error: unknown fact 'pian'; did you mean 'pain'?\n"


def test_errors_in_a_file_of_records_name_the_record(run, mini, tmp_path):
    facts = tmp_path / "many.json"
    facts.write_text('[{"pain": 1}, {"pian": 9}]')
    result = run("eval", str(mini), "--facts", str(facts))
    assert result.exit_code == 2
    assert result.stderr == "error: record 1: unknown fact 'pian'; did you mean 'pain'?\n"


def test_enum_value_not_allowed_suggests(run, mini):
    result = run("eval", str(mini), "--fact", "timing=nite")
    assert result.exit_code == 2
    assert "must be one of night, workout, walking" in result.stderr


def test_facts_from_a_json_file_and_flags_win(run, mini, tmp_path):
    facts = tmp_path / "me.json"
    facts.write_text('{"constipation": true, "long_term": true, "bedtime": true}')
    report = _json(run("eval", str(mini), "--facts", str(facts), "-f", "json"))
    assert report["recommendations"][0]["option"] == "glycinate"
    report = _json(run("eval", str(mini), "--facts", str(facts), "--fact", "bedtime=no", "-f", "json"))
    assert report["recommendations"][0]["option"] == "citrate"
    # Still open: kidney disease, which would rule citrate out.
    assert report["recommendations"][0]["status"] == "conditional"
    report = _json(
        run(
            "eval",
            str(mini),
            "--facts",
            str(facts),
            "--fact",
            "bedtime=no",
            "--fact",
            "kidney_disease=no",
            "-f",
            "json",
        )
    )
    assert report["recommendations"][0]["status"] == "fired"


def test_facts_from_stdin(run, mini):
    report = _json(run("eval", str(mini), "--facts", "-", "-f", "json", input='{"pain": 9}'))
    assert report["referrals"][0]["urgent"] is True


def test_facts_from_stdin_in_another_format(run, app, mini):
    if "csv" not in app.engine.loaders():
        pytest.skip("no csv loader registered")
    result = run("eval", str(mini), "--facts", "-", "--facts-format", "csv", "-f", "json", input="pain\n9\n")
    assert _json(result)["facts"] == {"pain": 9}


def test_facts_file_in_each_loader_format(run, app, mini, tmp_path):
    texts = {
        "json": '{"pain": 9}',
        "jsonl": '{"pain": 9}\n',
        "yaml": "pain: 9\n",
        "csv": "pain\n9\n",
        "toml": "pain = 9\n",
    }
    tried = 0
    for suffix, text in texts.items():
        if suffix not in app.engine.loaders():
            continue
        path = tmp_path / f"facts.{suffix}"
        path.write_text(text)
        assert _json(run("eval", str(mini), "--facts", str(path), "-f", "json"))["facts"] == {"pain": 9}, (
            suffix
        )
        tried += 1
    assert tried >= 2


def test_several_records_give_a_json_list(run, mini, tmp_path):
    facts = tmp_path / "many.json"
    facts.write_text('[{"pain": 9}, {"timing": "night"}, {}]')
    reports = _json(run("eval", str(mini), "--facts", str(facts), "-f", "json"))
    assert [len(r["referrals"]) for r in reports] == [1, 0, 0]
    assert reports[1]["recommendations"][0]["option"] == "stretching"


def test_several_records_in_text(run, mini, tmp_path):
    facts = tmp_path / "many.json"
    facts.write_text('[{"pain": 9}, {"timing": "night"}]')
    result = run("eval", str(mini), "--facts", str(facts))
    assert result.exit_code == 0
    assert result.stdout.count("Mini leg cramps (mini 1.0)") == 2


def test_every_registered_format(run, app, mini):
    for name in app.engine.formats():
        result = run("eval", str(mini), "--fact", "pain=9", "--format", name)
        assert result.exit_code == 0, (name, result.output)
        assert result.stdout.strip(), name


def test_audience_picks_because_or_detail(run, mini):
    patient = run("eval", str(mini), "--fact", "pain=9").stdout
    clinician = run("eval", str(mini), "--fact", "pain=9", "--audience", "clinician").stdout
    assert "Very painful cramps need a medical check." in patient
    assert "Exclude DVT" in clinician
    assert "Exclude DVT" not in patient


def test_json_output_is_byte_identical(run, mini):
    first = run("eval", str(mini), "--fact", "constipation", "--fact", "long_term", "-f", "json").stdout
    second = run("eval", str(mini), "--fact", "long_term", "--fact", "constipation", "-f", "json").stdout
    assert first == second


# ---------------------------------------------------------------- the bundled ruleset (not golden: it is being edited)


def test_default_ruleset_urgent_referral_first(run):
    report = _json(run("eval", "--fact", "pain=9", "--format", "json"))
    assert report["ruleset"]["name"] == "leg_cramps"
    assert report["referrals"][0]["urgent"] is True
    text = run("eval", "--fact", "pain=9").stdout
    first_heading = text.split("\n\n")[1].splitlines()[0]
    assert first_heading == first_heading.upper()
    assert "URGENT" in first_heading


def test_default_ruleset_headline(run):
    report = _json(run("eval", "--fact", "constipation", "--fact", "long_term", "-f", "json"))
    assert any(r["option"] == "citrate" for r in report["recommendations"])


# ---------------------------------------------------------------- output files


def test_output_file(run, mini, tmp_path):
    out = tmp_path / "report.json"
    result = run("eval", str(mini), "--fact", "pain=9", "-f", "json", "--output", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["referrals"][0]["to"] == "doctor"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_file_untouched_on_failure(run, mini, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("old\n")
    result = run("eval", str(mini), "--fact", "painn=9", "-f", "json", "--output", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_file_not_half_written_when_rendering_fails(mini, tmp_path):
    import click.testing

    from cramprules.cli import App, cli

    class HalfWay:
        @cramprules.hookimpl
        def cramprules_formats(self):
            def fails(report):
                raise ValueError("half way")

            return {"fails": fails}

    out = tmp_path / "report.txt"
    app = App(engine=cramprules.Engine(plugins=[HalfWay()], autoload=False))
    result = click.testing.CliRunner().invoke(
        cli, ["eval", str(mini), "-f", "fails", "-o", str(out)], obj=app
    )
    assert result.exit_code == 4
    assert list(tmp_path.iterdir()) == []


def test_output_write_failure_is_cleaned_up(run, mini, tmp_path, monkeypatch):
    out = tmp_path / "report.json"

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cramprules.cli._common.os.replace", full_disk)
    result = run("eval", str(mini), "-f", "json", "-o", str(out))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    assert "No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_into_a_missing_directory(run, mini, tmp_path):
    result = run("eval", str(mini), "-o", str(tmp_path / "nope" / "report.txt"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_output_dash_is_stdout(run, mini):
    assert run("eval", str(mini), "--fact", "pain=9", "-o", "-").stdout.startswith("Mini leg cramps")


# ---------------------------------------------------------------- many records: progress and numbering


def test_many_records_progress_on_a_terminal_only(run, mini, tmp_path, monkeypatch):
    facts = tmp_path / "many.json"
    facts.write_text(json.dumps([{"pain": i % 11} for i in range(600)]))
    quiet = run("eval", str(mini), "--facts", str(facts), "-f", "json")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert len(json.loads(quiet.stdout)) == 600
    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)
    shown = run("eval", str(mini), "--facts", str(facts), "-f", "json")
    assert "Evaluating" in shown.stderr
    assert shown.stdout == quiet.stdout


def test_bad_record_is_numbered_from_the_start_of_the_file(run, mini, tmp_path):
    records = [{"pain": 1}] * 600
    records[300] = {"pain": 12}
    facts = tmp_path / "many.json"
    facts.write_text(json.dumps(records))
    result = run("eval", str(mini), "--facts", str(facts), "-f", "json")
    assert result.exit_code == 2
    assert "record 300:" in result.stderr


def test_include_testing(run, tmp_path):
    ruleset = tmp_path / "t.cramp"
    ruleset.write_text("rule trial:\n    if a\n    then recommend rest\n    status testing\n")
    assert _json(run("eval", str(ruleset), "--fact", "a", "-f", "json"))["recommendations"] == []
    report = _json(run("eval", str(ruleset), "--fact", "a", "-f", "json", "--include-testing"))
    assert report["recommendations"][0]["option"] == "rest"


def test_disable_plugin_autoload_without_an_injected_app(mini):
    import click.testing

    from cramprules.cli import cli

    result = click.testing.CliRunner().invoke(
        cli, ["--disable-plugin-autoload", "eval", str(mini), "--fact", "pain=9"]
    )
    assert result.exit_code == 0, result.output
    assert "SEE A DOCTOR URGENTLY" in result.stdout
