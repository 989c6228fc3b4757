"""The built-in fact loaders: json, yaml, csv, toml; their errors name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cramprules import FactError


def load(engine, text: str, fmt: str) -> list[dict[str, object]]:
    return engine.load_facts(text, fmt)


# ------------------------------------------------------------------ yaml


def test_yaml_mapping_list_and_documents(engine) -> None:
    assert load(engine, "pain: 7\nconstipation: yes\n", "yaml") == [{"pain": 7, "constipation": True}]
    assert load(engine, "- pain: 1\n- pain: 2\n", "yml") == [{"pain": 1}, {"pain": 2}]
    assert load(engine, "pain: 1\n---\n- pain: 2\n- pain: 3\n", "yaml") == [
        {"pain": 1},
        {"pain": 2},
        {"pain": 3},
    ]
    assert load(engine, "", "yaml") == []
    assert load(engine, "# only a comment\n", "yaml") == []


def test_yaml_is_read_safely(engine) -> None:
    with pytest.raises(FactError, match="not valid YAML"):
        load(engine, "pain: !!python/object/apply:os.system ['echo hacked']\n", "yaml")


def test_yaml_syntax_error_has_line_and_column(engine) -> None:
    with pytest.raises(
        FactError, match=r"not valid YAML: mapping values are not allowed here at line 2, column 18"
    ):
        load(engine, "pain: 7\nconstipation: yes: no\nnight_cramps: no\n", "yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text\n", "record 0 of the YAML facts is a text"),
        ("- pain: 1\n- 42\n", "record 1 of the YAML facts is a number"),
        ("1: yes\n", "has the key 1, which is not a fact name"),
    ],
)
def test_yaml_records_must_be_mappings_of_names(engine, text: str, message: str) -> None:
    with pytest.raises(FactError, match=message):
        load(engine, text, "yaml")


# ------------------------------------------------------------------ csv


def test_csv_rows_are_records_and_values_stay_text(engine) -> None:
    text = "pain,constipation,night_cramps\n7,yes,\n2,no,true\n\n"
    assert load(engine, text, "csv") == [
        {"pain": "7", "constipation": "yes", "night_cramps": None},
        {"pain": "2", "constipation": "no", "night_cramps": "true"},
    ]


def test_csv_values_are_read_by_the_declared_type(engine, clinic) -> None:
    [record] = load(engine, "pain,constipation,bedtime\n9,yes,\n", "csv")
    report = clinic.evaluate(record)
    assert report.facts == {"pain": 9, "constipation": True}
    assert report.referrals[0].urgent
    assert "bedtime" in [q.fact for q in report.questions]  # the empty cell is unknown


def test_csv_short_rows_semicolons_tabs_and_bom(engine) -> None:
    assert load(engine, "pain,constipation\n7\n", "csv") == [{"pain": "7", "constipation": None}]
    assert load(engine, "\ufeffpain;constipation\n7;yes\n", "csv") == [{"pain": "7", "constipation": "yes"}]
    assert load(engine, "pain\tconstipation\n7\tyes\n", "tsv") == [{"pain": "7", "constipation": "yes"}]
    assert load(engine, '"pain","note"\n"7","a, b"\n', "csv") == [{"pain": "7", "note": "a, b"}]
    assert load(engine, "", "csv") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pain,pain\n1,2\n", "line 1 of the CSV facts: the header names 'pain' twice"),
        ("pain,,constipation\n1,2,3\n", "line 1 of the CSV facts: column 2 of the header has no fact name"),
        ("pain\n1\n2,3\n", "line 3 of the CSV facts has 2 cells, but the header names only 1 facts"),
        ('pain,note\n1,"unclosed\n', "line 2 of the CSV facts cannot be read"),
    ],
)
def test_csv_errors_name_the_line(engine, text: str, message: str) -> None:
    with pytest.raises(FactError, match=message):
        load(engine, text, "csv")


def test_csv_header_typo_is_caught_by_the_ruleset(engine, clinic) -> None:
    [record] = load(engine, "pian\n\n7\n", "csv")
    with pytest.raises(FactError, match="pian"):
        clinic.evaluate(record)


# ------------------------------------------------------------------ toml


def test_toml_table_is_one_record(engine) -> None:
    assert load(engine, "pain = 7\nconstipation = true\n", "toml") == [{"pain": 7, "constipation": True}]
    assert load(engine, "", "toml") == []


def test_toml_records_array_is_many(engine) -> None:
    text = "[[records]]\npain = 7\n\n[[records]]\nconstipation = true\n"
    assert load(engine, text, "toml") == [{"pain": 7}, {"constipation": True}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pain = \n", "not valid TOML: .*line 1"),
        ("pain = 1\n[[records]]\npain = 2\n", r"both \[\[records\]\] and the top-level keys pain"),
        ("records = 3\n", r"'records' in the TOML facts must be an array of tables"),
        ("records = [1, 2]\n", r"must be an array of tables"),
    ],
)
def test_toml_errors(engine, text: str, message: str) -> None:
    with pytest.raises(FactError, match=message):
        load(engine, text, "toml")


@pytest.mark.parametrize(
    ("fmt", "text"), [("yaml", "[" * 5000 + "]" * 5000), ("toml", "a = " + "[" * 5000 + "]" * 5000)]
)
def test_deep_nesting_is_bad_input_not_a_plugin_failure(engine, fmt: str, text: str) -> None:
    with pytest.raises(FactError, match="nested too deeply"):
        load(engine, text, fmt)


# ------------------------------------------------------------------ json, and choosing by suffix


def test_json_object_list_and_lines(engine) -> None:
    assert load(engine, '{"pain": 7}', "json") == [{"pain": 7}]
    assert load(engine, '[{"pain": 7}, {"pain": 1}]', "json") == [{"pain": 7}, {"pain": 1}]
    assert load(engine, '{"pain": 7}\n{"pain": 1}\n', "jsonl") == [{"pain": 7}, {"pain": 1}]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("facts.json", '{"pain": 7}'),
        ("facts.yaml", "pain: 7\n"),
        ("facts.yml", "pain: 7\n"),
        ("facts.csv", "pain\n7\n"),
        ("facts.tsv", "pain\n7\n"),
        ("facts.toml", "pain = 7\n"),
        ("FACTS.YAML", "pain: 7\n"),
        ("patient.2026.json", '{"pain": 7}'),
    ],
)
def test_files_are_read_by_suffix(engine, clinic, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    [record] = engine.load_facts_file(path)
    assert clinic.evaluate(record).facts["pain"] == 7


def test_an_unknown_suffix_suggests_one(engine) -> None:
    with pytest.raises(FactError, match="no loader reads 'yamll' files; did you mean 'yaml'"):
        engine.load_facts("", "yamll")


def test_a_disabled_loader_reads_nothing(fakes, tmp_path: Path) -> None:
    import cramprules

    engine = cramprules.Engine(autoload=False, disable=["yaml-facts"])
    path = tmp_path / "facts.yaml"
    path.write_text("pain: 7\n")
    with pytest.raises(FactError, match="no loader reads 'yaml' files"):
        engine.load_facts_file(path)
