"""``cramprules explain``: how, why not, and what would change it."""

from __future__ import annotations

import json


def _explain(run, *args):
    result = run("explain", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_each_outcome_with_its_rule_conditions_and_unless(run, in_data):
    data = _explain(run, "mini.cramp", "constipation", "long_term")
    [outcome] = data["outcomes"]
    assert outcome["outcome"] == "prefer citrate over glycinate"
    assert outcome["status"] == "conditional"
    rule = outcome["rule"]
    assert (rule["name"], rule["where"]) == ("citrate_for_constipation", "mini.cramp:37")
    assert rule["if"]["where"] == "mini.cramp:38"
    assert rule["if"]["value"] == "true"
    assert [d["facts"] for d in rule["if"]["decided_by"]] == [{"constipation": "yes"}, {"long_term": "yes"}]
    assert rule["unless"]["text"] == "bedtime"
    assert rule["unless"]["value"] == "unknown"
    assert "conditional" in rule["unless"]["settled"]
    # the rule it beat, and why
    assert outcome["beat"] == [
        {
            "rule": "glycinate_long_term",
            "claim": "prefer glycinate over citrate",
            "why": "'citrate_for_constipation' is more specific (2 tests against 1)",
        }
    ]


def test_what_would_change_a_conditional_outcome(run, in_data):
    data = _explain(run, "mini.cramp", "constipation", "long_term")
    changes = data["outcomes"][0]["what_would_change"]
    flips = {(c["changes"][0]["fact"], c["changes"][0]["to"]): c["after"] for c in changes}
    assert flips[("bedtime", "yes")] == "nothing about citrate"
    assert flips[("bedtime", "no")] == "prefer citrate over glycinate"
    assert all(len(c["changes"]) == 1 for c in changes)


def test_pending_outcomes_say_what_would_make_them_stand(run, in_data):
    data = _explain(run, "mini.cramp", "constipation", "long_term")
    pending = {p["rule"]["name"]: p for p in data["pending"]}
    red = pending["red_flags"]["what_would_change"]["refer doctor urgent"]
    assert {c["changes"][0]["to"] for c in red} == {"8", "10"}
    potassium = pending["replace_potassium"]["what_would_change"]["recommend potassium"]
    assert [[(c["fact"], c["to"]) for c in item["changes"]] for item in potassium] == [
        [("diuretics", "yes"), ("kidney_disease", "no")]
    ]


def test_lost_conflicts_and_rules_that_did_not_apply(run, in_data):
    data = _explain(run, "mini.cramp", "diuretics", "kidney_disease", "long_term")
    [conflict] = data["conflicts"]
    assert conflict["rule"] == "glycinate_long_term"
    assert conflict["winner"] == "kidney_caution"
    assert "higher priority" in conflict["why"]
    did_not = {d["rule"]: d for d in data["did_not_apply"]}
    assert did_not["replace_potassium"]["outcome"] == "not_matched"
    assert "kidney_disease is yes" in did_not["replace_potassium"]["reason"]
    assert did_not["glycinate_long_term"]["outcome"] == "overridden"


def test_defeated_unless(run, in_data):
    data = _explain(run, "mini.cramp", "constipation", "long_term", "bedtime=yes")
    did_not = {d["rule"]: d for d in data["did_not_apply"]}
    assert did_not["citrate_for_constipation"]["outcome"] == "defeated"
    assert "bedtime is yes" in did_not["citrate_for_constipation"]["reason"]


def test_why_not_a_rule_shows_the_first_failed_condition(run, in_data):
    data = _explain(
        run, "mini.cramp", "constipation=no", "long_term", "--why-not", "citrate_for_constipation"
    )
    [rule] = data["rules"]
    assert rule["outcome"] == "not_matched"
    assert rule["first_blocker"]["summary"] == "constipation is no"
    assert rule["first_blocker"]["value"] == "false"
    stand = rule["what_would_change"]["prefer citrate over glycinate"]
    assert [[(c["fact"], c["to"]) for c in s["changes"]] for s in stand] == [[("constipation", "yes")]]


def test_why_not_a_rule_that_stays_unknown(run, in_data):
    result = run("explain", "mini.cramp", "--why-not", "red_flags")
    assert result.exit_code == 0
    assert "first condition that stayed unknown: pain >= 8 (pain is unknown)" in result.stdout


def test_why_not_an_option(run, in_data):
    data = _explain(run, "mini.cramp", "long_term", "kidney_disease", "--why-not", "glycinate")
    assert data["kind"] == "outcome"
    names = [r["name"] for r in data["rules"]]
    assert names == ["glycinate_long_term", "kidney_caution"]
    lost = data["rules"][0]
    assert lost["lost"][0]["winner"] == "kidney_caution"


def test_why_not_a_misspelt_name_suggests(run, in_data):
    result = run("explain", "mini.cramp", "--why-not", "red_flag")
    assert result.exit_code == 2
    assert "did you mean 'red_flags'?" in result.stderr


def test_audience_clinician_shows_detail(run, in_data):
    patient = run("explain", "mini.cramp", "pain=9").stdout
    clinician = run("explain", "mini.cramp", "pain=9", "--audience", "clinician").stdout
    assert "because: Very painful cramps need a medical check." in patient
    assert "detail: Exclude DVT" in clinician


def test_facts_from_options_positionals_and_files(run, in_data, tmp_path):
    facts = tmp_path / "f.json"
    facts.write_text('{"constipation": true}')
    data = _explain(run, "mini.cramp", "--facts", str(facts), "--fact", "long_term")
    assert data["facts"] == {"constipation": "yes", "long_term": "yes"}
    # given twice on the command line with two values: an error, not the last one silently winning
    result = run("explain", "mini.cramp", "long_term", "--fact", "long_term=no")
    assert result.exit_code == 2
    assert "'long_term' is given twice, as 'yes' and as 'no'; give it once" in result.stderr


def test_a_file_with_many_records_is_refused(run, in_data, tmp_path):
    facts = tmp_path / "f.json"
    facts.write_text("[{}, {}]")
    result = run("explain", "mini.cramp", "--facts", str(facts))
    assert result.exit_code == 2
    assert "holds 2 records" in result.stderr


def test_first_word_is_a_fact_when_it_is_not_a_ruleset(run):
    data = _explain(run, "pain=9")
    assert data["ruleset"]["name"] == "leg_cramps"
    assert data["outcomes"][0]["urgent"] is True
    assert data["outcomes"][0]["kind"] == "refer"


def test_ruleset_by_name(run):
    assert _explain(run, "leg_cramps", "pain=9")["ruleset"]["name"] == "leg_cramps"


def test_unknown_fact(run, in_data):
    result = run("explain", "mini.cramp", "constipaton")
    assert result.exit_code == 2
    assert "did you mean 'constipation'?" in result.stderr


def test_output_file(run, in_data, tmp_path):
    out = tmp_path / "why.txt"
    assert run("explain", "mini.cramp", "pain=9", "-o", str(out)).exit_code == 0
    assert "refer doctor urgent" in out.read_text()


def test_nothing_decided(run, in_data):
    result = run(
        "explain",
        "mini.cramp",
        "long_term=no",
        "pain=1",
        "timing=walking",
        "diuretics=no",
        "kidney_disease=no",
    )
    assert result.exit_code == 0
    assert "No outcome: the facts given do not decide any rule." in result.stdout
