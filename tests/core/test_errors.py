"""Every error names file, line and column, shows the line with a caret,
says what was expected in plain words, and suggests a fix."""

from __future__ import annotations

import pytest

import cramprules
from cramprules import Diagnostic, RulesetError, RulesetSyntaxError


def error_of(engine: cramprules.Engine, text: str) -> RulesetError:
    with pytest.raises(RulesetError) as info:
        engine.parse_ruleset(text, "clinic.cramp")
    return info.value


def only(error: RulesetError) -> Diagnostic:
    assert len(error.diagnostics) == 1, str(error)
    return error.diagnostics[0]


# ---------------------------------------------------------------- syntax


def test_a_missing_condition_is_reported_in_words_with_a_caret(engine: cramprules.Engine) -> None:
    error = error_of(engine, "rule r:\n    if constipation and then prefer citrate\n")
    assert isinstance(error, RulesetSyntaxError)
    assert (error.origin, error.line, error.column) == ("clinic.cramp", 2, 25)
    assert str(error) == (
        "clinic.cramp:2:25: error: expected a condition (a fact, 'not' or '(') after 'and', "
        "but found 'then'\n"
        " 2 |     if constipation and then prefer citrate\n"
        "   |                         ^^^^\n"
        " hint: a condition is missing between 'and' and 'then'"
    )


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"),
    [
        (
            "if a b then recommend c",
            1,
            6,
            "expected 'and', 'or' or 'then' after 'a', but found the name 'b'",
            "join conditions with 'and' or 'or', and start the actions with 'then'",
        ),
        (
            "if a recommend b",
            1,
            6,
            "expected 'and', 'or' or 'then' after 'a', but found 'recommend'",
            "put 'then' before 'recommend'",
        ),
        (
            "rule r if a then recommend b",
            1,
            8,
            "expected ':' or 'priority' after 'r', but found 'if'",
            "a named rule reads 'rule NAME:' followed by 'if ... then ...'",
        ),
        (
            "if a then glycinate",
            1,
            11,
            (
                "expected an action (recommend, prefer, avoid, suspect or refer) after 'then', "
                "but found the name 'glycinate'"
            ),
            "say what to do with 'glycinate': recommend, prefer, avoid, suspect or refer",
        ),
        (
            "if a && b then recommend x",
            1,
            6,
            "'&' cannot appear here",
            "write 'and' to join conditions",
        ),
        (
            'fact x: bool "unterminated',
            1,
            14,
            "this text has no closing quote",
            'end the text with " on the same line',
        ),
        (
            "if a then recommend",
            1,
            20,
            "expected a name after 'then', but found the end of the file",
            "the last statement is not finished",
        ),
        (
            "IF a then recommend b",
            1,
            1,
            "expected a new statement (rule, if, fact, option, ...), but found the name 'IF'",
            "keywords are written in lower case: 'if'",
        ),
        (
            "fact source: bool",
            1,
            6,
            "expected a name after 'fact', but found 'source'",
            "'source' is a keyword and cannot be used as a name; choose another, such as 'source_'",
        ),
        (
            "rule r:\n  if a then recommend b\n  reviewed 2026-02-30",
            3,
            12,
            "2026-02-30 is not a real date",
            "write the date as YYYY-MM-DD, for example 2025-01-31",
        ),
        (
            'if a then recommend b because "x" because "y"',
            1,
            35,
            "this rule has a second 'because' clause",
            "a rule takes one 'because'; join the two into one",
        ),
        (
            "rule r priority 1.5: if a then recommend b",
            1,
            17,
            "a priority is a whole number, not 1.5",
            "write for example 'priority 10'",
        ),
    ],
)
def test_syntax_errors(
    engine: cramprules.Engine, text: str, line: int, column: int, message: str, hint: str
) -> None:
    diagnostic = only(error_of(engine, text))
    assert (diagnostic.line, diagnostic.column) == (line, column)
    assert diagnostic.message == message
    assert diagnostic.hint == hint
    assert diagnostic.source_line == text.splitlines()[line - 1]


def test_errors_never_mention_lark_token_names(engine: cramprules.Engine) -> None:
    for text in ["if (a then recommend b", "fact x: number 1..", "rule : if", "option", "if a then"]:
        message = str(error_of(engine, text))
        for token_name in ("RPAR", "LPAR", "NAME", "STRING", "DOTDOT", "__ANON", "$END", "COLON"):
            assert token_name not in message, message


# ---------------------------------------------------------------- semantics


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "message", "hint"),
    [
        (
            'fact constipation: bool "q"\nif constipaton and long_term then prefer x',
            "typo-name",
            2,
            4,
            "'constipaton' is not declared, and it is close to the fact 'constipation'",
            "did you mean 'constipation'? If 'constipaton' is a new fact, declare it: fact constipaton: bool",
        ),
        (
            'option glycinate "G"\nif a then prefer glycinat',
            "typo-name",
            2,
            11,
            "'glycinat' is not declared, and it is close to the option 'glycinate'",
            "did you mean 'glycinate'? If 'glycinat' is a new option, declare it: option glycinat \"...\"",
        ),
        (
            'cause dehydration "D"\nif a then suspect dehydraton',
            "typo-name",
            2,
            11,
            "'dehydraton' is not declared, and it is close to the cause 'dehydration'",
            "did you mean 'dehydration'? If 'dehydraton' is a new cause, declare it: cause dehydraton \"...\"",
        ),
        (
            'source berg "Dr. Eric Berg"\nrule r: if a then recommend b cite brg',
            "unknown-source",
            2,
            6,
            "'brg' is not a declared source",
            "did you mean 'berg'?",
        ),
        (
            "rule r: if a then recommend b\nrule s: if c then recommend d overrides rr",
            "unknown-rule",
            2,
            6,
            "'rr' is not a rule of this ruleset",
            "did you mean 'r'?",
        ),
        (
            "rule r: if a then recommend b\nrule r: if c then recommend d",
            "duplicate-rule",
            2,
            6,
            "there is already a rule named 'r' at clinic.cramp:1:6",
            "give each rule its own name",
        ),
        (
            "fact a: bool\nfact a: bool",
            "duplicate-name",
            2,
            6,
            "'a' is already declared as a fact at clinic.cramp:1:6",
            "rename one of them, or remove the second declaration",
        ),
        (
            "fact pain: number 0..10\nif pain then recommend rest",
            "type-mismatch",
            2,
            4,
            "'pain' is a number, but it is used here as a yes/no fact",
            "compare it with a number, for example 'pain >= 5'",
        ),
        (
            "if pain > 3 and pain then recommend rest",
            "type-mismatch",
            1,
            17,
            "'pain' is a number, but it is used here as a yes/no fact",
            "compare it with a number, for example 'pain >= 5'",
        ),
        (
            "fact timing: one of night, day\nif timing is nigth then recommend rest",
            "unknown-value",
            2,
            4,
            "'nigth' is not one of the values of 'timing' (night, day)",
            "did you mean 'night'?",
        ),
        (
            "if x then suspect c\nif c then suspect x2\nif x2 then suspect c",
            "rule-cycle",
            2,
            1,
            "these rules depend on each other in a cycle: rule@2 -> rule@3 -> rule@2",
            None,
        ),
        (
            "rule r: if pain >= 8 then refer doctor urgent unless brave",
            "urgent-unless",
            1,
            54,
            "an urgent referral cannot have an 'unless': nothing may defeat it",
            "move the urgent referral into a rule of its own without 'unless'",
        ),
        (
            "rule r: if pain >= 8 then refer doctor urgent\nrule s: if brave then recommend rest overrides r",
            "override-urgent",
            2,
            6,
            "rule 'r' gives an urgent referral, which nothing may override",
            "remove 'r' from this rule's overrides",
        ),
        (
            "if a then recommend b\nif c then foo(d)",
            "syntax",
            2,
            11,
            None,
            None,
        ),
        (
            "if pain between 8 and 3 then recommend rest",
            "empty-between",
            1,
            4,
            "'between 8 and 3' can never hold: the bounds are reversed",
            "write 'between 3 and 8'",
        ),
        (
            "fact pain: number 10..0",
            "bad-range",
            1,
            6,
            "the range 10..0 of 'pain' is empty",
            "write the smaller bound first: 0..10",
        ),
        (
            "if ok() then recommend rest",
            "unknown-function",
            1,
            4,
            "there is no function named 'ok'",
            "functions come from plugins; is the plugin that provides it installed?",
        ),
        (
            "if a then recommend b and avoid b",
            "self-contradiction",
            1,
            27,
            "this rule both says 'recommend b' and 'avoid b'",
            "split it into two rules with different conditions",
        ),
        (
            "fact a: bool\nif b then suspect a",
            "not-a-cause",
            2,
            11,
            "'a' is declared as a fact, so rules cannot suspect it",
            'declare a cause with its own name: cause a_cause "..."',
        ),
        (
            "option x in somewhere",
            "unknown-group",
            1,
            8,
            "option 'x' is in group 'somewhere', which is not declared",
            'declare it: group somewhere "Its heading"',
        ),
        (
            "rule r: if a then recommend b status draft",
            "unknown-status",
            1,
            6,
            "'draft' is not a status; a status is production, testing or retired",
            None,
        ),
        (
            'include "other.cramp"',
            "include-unavailable",
            1,
            1,
            "'clinic.cramp' has no location on disk, so it cannot include files",
            "load the ruleset from a file, or pass base_dir= to parse_ruleset()",
        ),
        (
            "extends nothing_here",
            "unknown-ruleset",
            1,
            1,
            "there is no ruleset named 'nothing_here' to extend",
            "known rulesets: leg_cramps",
        ),
        (
            'example "e": given pian = 3 expect prefer x\nif pain > 2 then prefer x',
            "unknown-fact",
            1,
            20,
            "the example gives 'pian', which is not a fact of this ruleset",
            "did you mean 'pain'?",
        ),
        (
            'invariant "i": if paine > 3 then prefer x\nif pain > 2 then prefer x',
            "unknown-name",
            1,
            19,
            "'paine' is not a fact or cause of this ruleset",
            "did you mean 'pain'?",
        ),
    ],
)
def test_semantic_errors(
    engine: cramprules.Engine,
    text: str,
    code: str,
    line: int,
    column: int,
    message: str | None,
    hint: str | None,
) -> None:
    diagnostic = error_of(engine, text).diagnostics[0]
    assert diagnostic.code == code, str(diagnostic.render())
    assert (diagnostic.origin, diagnostic.line, diagnostic.column) == ("clinic.cramp", line, column)
    if message is not None:
        assert diagnostic.message == message
    if hint is not None:
        assert diagnostic.hint == hint
    assert diagnostic.source_line == text.splitlines()[line - 1]
    rendered = diagnostic.render()
    assert rendered.startswith(f"clinic.cramp:{line}:{column}: error: ")
    assert "^" in rendered


def test_every_error_is_reported_at_once(engine: cramprules.Engine) -> None:
    error = error_of(
        engine,
        'source berg "B"\nfact pain: number\nrule r: if pian > 3 then recommend b cite brg\n'
        "rule s: if x then recommend c overrides q",
    )
    assert [d.code for d in error.diagnostics] == ["typo-name", "unknown-source", "unknown-rule"]
    assert str(error).endswith("3 errors")


def test_a_typo_never_silently_becomes_a_new_fact_but_a_declaration_makes_it_one(
    engine: cramprules.Engine,
) -> None:
    text = 'fact constipation: bool "q"\nif constipaton then recommend rest'
    error_of(engine, text)
    rs = engine.parse_ruleset('fact constipaton: bool "typo on purpose"\n' + text)
    assert "constipaton" in rs.facts


def test_short_different_names_are_not_taken_for_typos(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("fact x1: bool\nif x1 and x2 then recommend rest")
    assert set(rs.facts) == {"x1", "x2"}


def test_a_syntax_error_in_an_included_file_names_that_file(engine: cramprules.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "main.cramp").write_text('ruleset m\ninclude "parts/bad.cramp"\n')
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "bad.cramp").write_text("if a then\n")
    with pytest.raises(RulesetSyntaxError) as info:
        engine.load_ruleset(tmp_path / "main.cramp")
    assert info.value.origin is not None
    assert info.value.origin.endswith("bad.cramp")
    assert info.value.line == 1
