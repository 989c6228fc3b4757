"""What the language server and the playground answer, asked directly of :mod:`cramprules.lsp.analysis`."""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

from cramprules.authoring.lint import check_target
from cramprules.cli import cli
from cramprules.lsp.analysis import analyse, completions, fixes, path_of, symbols_of_document, tokens

TEXT = """\
ruleset clinic "Clinic"
source nice "NICE"
fact pain: number 0..10 "How bad?"
fact diet: one of usual, keto "Which diet?"
option stretching "Stretch"
cause low_salt "Low salt"

rule salty:
    if diet is keto
    then suspect low_salt
    because "Keto washes out salt." cite nice

rule stretch:
    if pain >= 3 and low_salt
    then recommend stretching
    because "It helps." cite nice
"""


@pytest.fixture
def analysis(engine):
    return analyse(engine, TEXT, "clinic.cramp")


def labels(found):
    return [c.label for c in found]


def test_the_findings_are_exactly_checks(engine, tmp_path):
    path = tmp_path / "clinic.cramp"
    text = (
        TEXT + '\nfact unused: bool "Never tested"\nrule r:\n    if pian > 1\n    then recommend stretching\n'
    )
    path.write_text(text)
    expected = check_target(engine, str(path)).findings
    found = analyse(engine, text, str(path), directory=tmp_path).findings
    assert [(d.code, d.line, d.column, d.message, d.hint) for d in found] == [
        (d.code, d.line, d.column, d.message, d.hint) for d in expected
    ]
    assert [d.code for d in found] == ["typo-name"]


def test_names_are_known_with_their_kind_and_definition(analysis):
    assert {n: s.kind for n, s in analysis.symbols.items()} == {
        "nice": "source",
        "pain": "fact",
        "diet": "fact",
        "stretching": "option",
        "low_salt": "cause",
        "salty": "rule",
        "stretch": "rule",
    }
    assert analysis.symbols["low_salt"].span.line == 6
    assert "Keto washes out salt." in analysis.symbols["salty"].detail


def test_a_text_that_does_not_check_still_knows_its_declarations(engine):
    broken = analyse(engine, TEXT.replace("pain >= 3", "pian >= 3"), "clinic.cramp")
    assert not broken.loaded
    assert broken.symbols["pain"].kind == "fact"
    assert broken.symbols["stretch"].kind == "rule"


def test_completion_by_context(analysis):
    def at(line: str) -> list[str]:
        return labels(completions(TEXT + line, TEXT.count("\n") + 1, len(line) + 1, analysis))

    assert at("    then recommend ") == ["stretching"]
    assert at("    then suspect ") == ["low_salt"]
    assert at('    because "x" cite ') == ["nice"]
    assert at("    overrides ") == ["salty", "stretch"]
    assert at("    if diet is ") == ["usual", "keto", "known", "unknown", "not"]
    assert at("    if diet in [usual, ") == ["usual", "keto"]
    assert at("    then ") == ["recommend", "prefer", "avoid", "suspect", "refer"]
    condition = at("    if pain > 2 and ")
    assert {"pain", "diet", "low_salt"} <= set(condition)
    assert "stretching" not in condition
    assert at("") == ["ruleset", "source", "fact", "option", "group", "cause", "include", "extends", "rule"]


def test_a_partial_word_does_not_change_the_context(analysis):
    line = "    then recommend str"
    found = completions(TEXT + line, TEXT.count("\n") + 1, len(line) + 1, analysis)
    assert labels(found) == ["stretching"]


def test_quick_fix_for_a_typo_replaces_only_the_name(engine):
    text = TEXT.replace("then recommend stretching", "then recommend stretchin")
    analysis = analyse(engine, text, "clinic.cramp")
    [fix] = fixes(text, analysis.findings)
    assert fix.title == "Change 'stretchin' to 'stretching'"
    line = text.splitlines()[fix.edit.line - 1]
    assert line[fix.edit.column - 1 : fix.edit.end_column - 1] == "stretchin"


def test_quick_fix_declares_an_inferred_cause_after_the_last_cause(engine):
    text = TEXT + "\nrule more:\n    if pain > 8\n    then suspect injury\n"
    analysis = analyse(engine, text, "clinic.cramp")
    [fix] = fixes(text, analysis.inferred)
    assert fix.title == "Declare cause 'injury'"
    assert fix.edit.text == 'cause injury "Injury"\n'
    assert fix.edit.line == 7  # after 'cause low_salt', line 6
    fixed = text.splitlines(keepends=True)
    fixed.insert(fix.edit.line - 1, fix.edit.text)
    assert analyse(engine, "".join(fixed), "clinic.cramp").inferred == ()


def test_tokens_cover_keywords_names_texts_and_comments(analysis):
    text = "# a comment\n" + TEXT
    found = tokens(text, analysis.symbols)
    lines = text.splitlines()
    shown = {(lines[t.line - 1][t.column - 1 : t.column - 1 + t.length], t.kind) for t in found}
    assert {("# a comment", "comment"), ("ruleset", "keyword"), ('"Clinic"', "string")} <= shown
    assert {("pain", "fact"), ("low_salt", "cause"), ("salty", "rule"), ("10", "number")} <= shown


def test_tokens_of_text_the_lexer_cannot_read_stop_there(analysis):
    found = tokens("fact a: bool\nfact b: bool $ fact c: bool\n", {})
    assert max(t.line for t in found) == 2
    assert all(t.kind != "name" or t.line == 1 or t.column < 14 for t in found)


def test_the_outline_has_each_statement_with_its_whole_extent():
    outline = symbols_of_document(TEXT, "clinic.cramp")
    assert [(kind, name, span.line, span.end_line) for kind, name, span in outline] == [
        ("ruleset", "clinic", 1, 1),
        ("source", "nice", 2, 2),
        ("fact", "pain", 3, 3),
        ("fact", "diet", 4, 4),
        ("option", "stretching", 5, 5),
        ("cause", "low_salt", 6, 6),
        ("rule", "salty", 8, 11),
        ("rule", "stretch", 13, 16),
    ]


def test_origins_map_back_to_files(tmp_path):
    assert path_of(str(tmp_path / "a.cramp")) == tmp_path / "a.cramp"
    assert path_of("rulesets/leg_cramps.cramp").is_file()
    assert path_of("a.cramp", cwd=tmp_path) == tmp_path / "a.cramp"
    assert path_of("<plugin x>") is None


def test_lsp_without_pygls_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pygls" else real(name))
    result = CliRunner().invoke(cli, ["lsp"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: lsp needs the lsp extra (pygls missing); install it with: pip install 'cramprules[lsp]'"
    )


def test_the_bundled_ruleset_is_analysed_too(engine):
    path = Path(str(path_of("rulesets/leg_cramps.cramp")))
    analysis = analyse(engine, path.read_text(), str(path), directory=path.parent)
    assert analysis.loaded
    assert analysis.symbols["pain"].kind == "fact"
    assert len(analysis.texts) > 5  # the main file and its includes


PIECES = ["rule r:", "\n", "    if ", "pain", " >= ", "3", " and ", "diet is keto", '"a text"', "# note",
          "then recommend ", "stretching", "cite nice", "$", "[", "]", ",", " ", "fact x: bool", '"open']  # fmt: skip


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(st.lists(st.sampled_from(PIECES), max_size=30), st.integers(1, 12), st.integers(1, 40))
def test_any_text_gives_tokens_in_order_within_their_lines_and_never_raises(pieces, line, column):
    text = "".join(pieces)
    found = tokens(text, {})
    lines = text.split("\n")
    ends: dict[int, int] = {}
    for token in found:
        assert 1 <= token.line <= len(lines)
        assert token.column >= ends.get(token.line, 1), "tokens do not overlap"
        assert token.column - 1 + token.length <= len(lines[token.line - 1])
        ends[token.line] = token.column + token.length
    completions(text, line, column, None)
    symbols_of_document(text, "any.cramp")
