"""The Pygments lexer: registered by name, and the tokens of a small ruleset."""

from __future__ import annotations

import pygments
import pygments.lexers
from pygments.formatters import HtmlFormatter
from pygments.token import Comment, Keyword, Literal, Name, Number, Operator, String, Token

from cramprules.authoring.lexer import CrampLexer

SAMPLE = """\
# red flags first
rule red_flags priority 100:
    if persistent or pain >= 8.5
    then refer doctor urgent
    because "See a \\"doctor\\"."
    reviewed 2026-11-25
"""


def _tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in CrampLexer().get_tokens(text) if value.strip()]


def test_the_lexer_is_found_by_name_and_by_file_name() -> None:
    assert isinstance(pygments.lexers.get_lexer_by_name("cramp"), CrampLexer)
    assert isinstance(pygments.lexers.get_lexer_for_filename("clinic.cramp"), CrampLexer)


def test_a_rule_is_highlighted_part_by_part() -> None:
    tokens = _tokens(SAMPLE)
    assert tokens[:6] == [
        (Comment.Single, "# red flags first"),
        (Keyword.Declaration, "rule"),
        (Name.Function, "red_flags"),
        (Keyword, "priority"),
        (Number.Integer, "100"),
        (Token.Punctuation, ":"),
    ]
    assert (Operator.Word, "or") in tokens
    assert (Operator, ">=") in tokens
    assert (Number.Float, "8.5") in tokens
    assert (Keyword.Reserved, "refer") in tokens
    assert (Keyword.Constant, "urgent") in tokens
    assert (String.Escape, '\\"') in tokens
    assert (Literal.Date, "2026-11-25") in tokens
    assert (Name, "persistent") in tokens


def test_ranges_and_declarations() -> None:
    tokens = _tokens('fact pain: number 0..10 "Pain?"\nexample "e": given pain = 3; expect question pain\n')
    assert tokens[:7] == [
        (Keyword.Declaration, "fact"),
        (Name.Class, "pain"),
        (Token.Punctuation, ":"),
        (Keyword.Constant, "number"),
        (Number.Integer, "0"),
        (Operator, ".."),
        (Number.Integer, "10"),
    ]
    assert (Keyword.Namespace, "example") in tokens
    assert (Keyword.Namespace, "expect") in tokens


def test_every_character_is_lexed_without_errors() -> None:
    from cramprules._resources import data_dir

    for path in data_dir("rulesets").rglob("*.cramp"):
        text = path.read_text(encoding="utf-8")
        kinds = [kind for kind, _ in CrampLexer().get_tokens(text)]
        assert Token.Error not in kinds, path
    assert "<span" in pygments.highlight(SAMPLE, CrampLexer(), HtmlFormatter())
