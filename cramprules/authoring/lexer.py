"""A Pygments lexer for ``.cramp`` rulesets, so they are highlighted in docs and terminals.

Registered through the ``pygments.lexers`` entry point, so once cramprules is
installed ``pygmentize -l cramp clinic.cramp`` and Sphinx/MkDocs code blocks
marked ``cramp`` just work.  Pygments is needed only here: cramprules itself
never imports this module.
"""

from __future__ import annotations

from typing import Any as AnyType
from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Literal, Name, Number, Operator, Punctuation, String, Text

__all__ = ["CrampLexer"]

_STATEMENTS = ("ruleset", "source", "fact", "option", "group", "cause", "include", "extends", "rule")
_TESTS = ("invariant", "example", "given", "expect", "question", "conditional")
_CLAUSES = (
    "if", "then", "unless", "because", "detail", "cite", "overrides", "priority",
    "evidence", "reviewed", "status", "author", "version", "url", "unit", "derived",
)  # fmt: skip
_ACTIONS = ("recommend", "prefer", "avoid", "suspect", "refer", "over")
_WORDS = ("and", "or", "not", "is", "in", "between", "known", "unknown", "of")
_CONSTANTS = ("urgent", "production", "testing", "retired", "bool", "number", "one")


class CrampLexer(RegexLexer):  # type: ignore[misc]  # pygments is untyped
    """Rulesets of cited, explainable health recommendations (cramprules)."""

    name = "Cramp"
    aliases: ClassVar[list[str]] = ["cramp", "cramprules"]
    filenames: ClassVar[list[str]] = ["*.cramp"]
    mimetypes: ClassVar[list[str]] = ["text/x-cramp"]
    url = "https://github.com/cramprules/cramprules"

    tokens: ClassVar[dict[str, list[AnyType]]] = {
        "root": [
            (r"\s+", Text.Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"', String.Double, "string"),
            (r"\d{4}-\d{2}-\d{2}\b", Literal.Date),
            (r"\.\.", Operator),
            (r"-?\d+\.\d+", Number.Float),
            (r"-?\d+", Number.Integer),
            (r"(<=|>=|!=|==|<|>|=)", Operator),
            (r"[:,;\[\]()]", Punctuation),
            (r"(rule)(\s+)([A-Za-z_]\w*)", bygroups(Keyword.Declaration, Text.Whitespace, Name.Function)),
            (
                r"(fact|option|group|cause|source|ruleset|extends)(\s+)([A-Za-z_]\w*)",
                bygroups(Keyword.Declaration, Text.Whitespace, Name.Class),
            ),
            (words(_STATEMENTS, suffix=r"\b"), Keyword.Declaration),
            (words(_TESTS, suffix=r"\b"), Keyword.Namespace),
            (words(_CLAUSES, suffix=r"\b"), Keyword),
            (words(_ACTIONS, suffix=r"\b"), Keyword.Reserved),
            (words(_WORDS, suffix=r"\b"), Operator.Word),
            (words(_CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"[A-Za-z_]\w*(?=\()", Name.Builtin),
            (r"[A-Za-z_]\w*", Name),
        ],
        "string": [
            (r"\\.", String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\n", Text, "#pop"),
        ],
    }
