"""``cramprules lsp`` driven by a real LSP client (pytest-lsp) over stdio.

Each test starts the server as an editor would (``python -m cramprules lsp``)
and talks to it through the protocol: no function of the server is called
directly, so these are what an editor sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient as PyglsClient

from cramprules._resources import data_dir
from cramprules.lsp.server import TOKEN_TYPES


class LanguageClient(PyglsClient):
    """pygls' client, keeping the diagnostics the server publishes, by file."""

    def __init__(self) -> None:
        super().__init__("cramprules-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.published = asyncio.Condition()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def published(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            async with self.published:
                self.diagnostics[params.uri] = list(params.diagnostics)
                self.published.notify_all()


MAIN = """\
ruleset clinic "Clinic"
include "extra.cramp"

fact pain: number 0..10 "How bad is the pain (0-10)?"
source nice "NICE guideline on cramps"

rule hurts:
    if pain >= 7 and night_cramp
    then recommend stretching
    because "Stretching before bed eases night cramps." cite nice
"""

EXTRA = """\
fact night_cramp: bool "Do the cramps come at night?"
option stretching "Stretch the calves before bed"
"""


@contextlib.asynccontextmanager
async def started(tmp_path: Path, options: object = None) -> AsyncIterator[LanguageClient]:
    """``python -m cramprules lsp`` started as an editor starts it, initialised, then shut down."""
    (tmp_path / "extra.cramp").write_text(EXTRA, encoding="utf-8")
    (tmp_path / "main.cramp").write_text(MAIN, encoding="utf-8")
    lsp = LanguageClient()
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    # Started from tmp_path, so the server runs the cramprules this test imports
    # (the installed wheel under tox), not a checkout in the working directory.
    await lsp.start_io(sys.executable, "-m", "cramprules", "lsp", env=env, cwd=tmp_path)
    await lsp.initialize_async(
        types.InitializeParams(
            process_id=os.getpid(),
            capabilities=types.ClientCapabilities(),
            root_uri=tmp_path.as_uri(),
            initialization_options=options,
        )
    )
    lsp.initialized(types.InitializedParams())
    try:
        yield lsp
    finally:
        await asyncio.wait_for(lsp.shutdown_async(None), 30)
        lsp.exit(None)
        await lsp.stop()


Scenario = Callable[[LanguageClient, Path], Awaitable[None]]


def with_server(scenario: Scenario) -> Callable[[Path], None]:
    """A test that runs ``scenario`` against a freshly started server (no async test plugin needed)."""

    def test(tmp_path: Path) -> None:
        async def run() -> None:
            async with started(tmp_path) as client:
                await scenario(client, tmp_path)

        asyncio.run(run())

    test.__name__ = scenario.__name__
    test.__doc__ = scenario.__doc__
    return test


async def diagnostics_for(client: LanguageClient, uri: str, timeout: float = 30) -> list[types.Diagnostic]:
    """The next diagnostics published for ``uri``."""
    async with client.published:
        client.diagnostics.pop(uri, None)
        await asyncio.wait_for(client.published.wait_for(lambda: uri in client.diagnostics), timeout)
        return client.diagnostics[uri]


def open_file(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="cramp",
                version=version,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    return uri


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


@with_server
async def test_a_clean_file_gets_an_empty_list_of_diagnostics_on_open(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    assert await diagnostics_for(client, uri) == []


@with_server
async def test_typing_a_typo_gives_checks_error_with_its_code_and_hint(
    client: LanguageClient, tmp_path: Path
):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    change(client, uri, MAIN.replace("if pain >= 7", "if pian >= 7"), version=2)
    found = await diagnostics_for(client, uri)
    assert [d.code for d in found] == ["typo-name"]
    [typo] = found
    assert typo.severity == types.DiagnosticSeverity.Error
    assert typo.source == "cramprules"
    assert "'pian' is not declared" in typo.message
    assert "hint: did you mean 'pain'?" in typo.message
    assert (typo.range.start.line, typo.range.start.character) == (7, 7)
    assert typo.range.end.character == 11


@with_server
async def test_a_syntax_error_is_reported_where_it_is(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp", MAIN.replace("then recommend", "then recomend"))
    [found] = await diagnostics_for(client, uri)
    assert found.code == "syntax"
    assert found.range.start.line == 8


@with_server
async def test_an_error_in_an_included_file_is_published_to_that_file(client: LanguageClient, tmp_path: Path):
    (tmp_path / "extra.cramp").write_text(EXTRA + "option stretching2\nrule x: if night_cramps then\n")
    uri = open_file(client, tmp_path / "main.cramp")
    extra_uri = (tmp_path / "extra.cramp").as_uri()
    found = await diagnostics_for(client, extra_uri)
    assert found, "the included file's syntax error is shown in the included file"
    assert all(d.source == "cramprules" for d in found)
    assert client.diagnostics.get(uri, []) == []


@with_server
async def test_check_findings_come_too_not_only_errors(client: LanguageClient, tmp_path: Path):
    text = MAIN + '\nfact unused_fact: bool "Never asked"\n'
    uri = open_file(client, tmp_path / "main.cramp", text)
    found = await diagnostics_for(client, uri)
    assert [(d.code, d.severity) for d in found] == [("unused-fact", types.DiagnosticSeverity.Warning)]


@with_server
async def test_hover_shows_a_facts_type_range_and_question(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(7, 8))
    )
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert "**fact** `pain`" in hover.contents.value
    assert "**fact** `pain`: a number from 0 to 10" in hover.contents.value
    assert "How bad is the pain (0-10)?" in hover.contents.value


@with_server
async def test_hover_on_a_rule_shows_because_and_sources(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(6, 6))
    )
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert "Stretching before bed eases night cramps." in value
    assert "`nice`: NICE guideline on cramps" in value


@with_server
async def test_definition_goes_across_an_include(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    where = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(7, 24)
        )
    )
    assert isinstance(where, types.Location)
    assert where.uri == (tmp_path / "extra.cramp").resolve().as_uri()
    assert (where.range.start.line, where.range.start.character) == (0, 5)


@with_server
async def test_definition_goes_into_the_bundled_ruleset(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "mine.cramp"
    text = 'ruleset mine "Mine"\nextends leg_cramps\n\nrule more:\n    if pain >= 9\n    then refer doctor\n    because "Very bad pain." cite article\n'
    path.write_text(text)
    uri = open_file(client, path)
    await diagnostics_for(client, uri)
    where = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(4, 8)
        )
    )
    assert isinstance(where, types.Location)
    bundled = (data_dir("rulesets") / "leg_cramps.cramp").resolve().as_uri()
    assert where.uri == bundled
    line = (data_dir("rulesets") / "leg_cramps.cramp").read_text().splitlines()[where.range.start.line]
    assert line.startswith("fact pain:")


@with_server
async def test_references_are_found_in_every_file(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(8, 22),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    places = sorted((Path(loc.uri.removeprefix("file://")).name, loc.range.start.line) for loc in found)
    assert places == [("extra.cramp", 1), ("main.cramp", 8)]


@with_server
async def test_completion_after_recommend_offers_options(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    text = MAIN + "\nrule more:\n    if night_cramp\n    then prefer \n"
    change(client, uri, text, version=2)
    await diagnostics_for(client, uri)
    line = text.splitlines().index("    then prefer ")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, 16)
        )
    )
    assert isinstance(result, types.CompletionList)
    assert [item.label for item in result.items] == ["stretching"]
    assert result.items[0].kind == types.CompletionItemKind.EnumMember


@with_server
async def test_completion_in_a_condition_offers_facts_and_keywords(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(7, 21)
        )
    )
    assert isinstance(result, types.CompletionList)
    labels = {item.label for item in result.items}
    assert {"pain", "night_cramp", "not"} <= labels
    assert "stretching" not in labels


@with_server
async def test_formatting_is_fmt(client: LanguageClient, tmp_path: Path):
    messy = 'ruleset clinic "Clinic"\nfact   pain : number 0..10\nrule r: if pain>=7 then recommend rest\n'
    uri = open_file(client, tmp_path / "messy.cramp", messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )
    from cramprules.authoring.fmt import format_text

    assert edits is not None
    [edit] = edits
    assert edit.new_text == format_text(messy)
    assert edit.range.start == types.Position(0, 0)


@with_server
async def test_code_action_takes_the_typo_guards_suggestion(client: LanguageClient, tmp_path: Path):
    text = MAIN.replace("if pain >= 7", "if pian >= 7")
    uri = open_file(client, tmp_path / "main.cramp", text)
    [typo] = await diagnostics_for(client, uri)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=typo.range,
            context=types.CodeActionContext(diagnostics=[typo]),
        )
    )
    assert actions is not None
    [action] = actions
    assert isinstance(action, types.CodeAction)
    assert action.title == "Change 'pian' to 'pain'"
    assert action.edit is not None
    assert action.edit.changes is not None
    [edit] = action.edit.changes[uri]
    assert edit.new_text == "pain"
    assert (edit.range.start.line, edit.range.start.character, edit.range.end.character) == (7, 7, 11)


@with_server
async def test_code_action_declares_an_inferred_name(client: LanguageClient, tmp_path: Path):
    text = MAIN + "\nrule thirsty:\n    if sweating\n    then recommend water\n"
    uri = open_file(client, tmp_path / "main.cramp", text)
    await diagnostics_for(client, uri)
    line = text.splitlines().index("    if sweating")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(line, 7), types.Position(line, 15)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
    assert titles == ["Declare fact 'sweating'"]
    [action] = actions
    [edit] = action.edit.changes[uri]  # type: ignore[union-attr]
    assert edit.new_text == 'fact sweating: bool "Sweating?"\n'
    # after the last fact declared in this file
    assert edit.range.start.line == 4


@with_server
async def test_document_symbols_outline_the_file(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert symbols is not None
    assert [(s.name, s.detail) for s in symbols] == [  # type: ignore[union-attr]
        ("clinic", "ruleset"),
        ("extra.cramp", "include"),
        ("pain", "fact"),
        ("nice", "source"),
        ("hurts", "rule"),
    ]
    rule = symbols[-1]
    assert (rule.range.start.line, rule.range.end.line) == (6, 9)  # type: ignore[union-attr]


@with_server
async def test_semantic_tokens_colour_names_by_what_they_are(client: LanguageClient, tmp_path: Path):
    uri = open_file(client, tmp_path / "main.cramp")
    await diagnostics_for(client, uri)
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert result is not None
    data = result.data
    decoded, line, column = [], 0, 0
    for i in range(0, len(data), 5):
        line += data[i]
        column = data[i + 1] if data[i] else column + data[i + 1]
        decoded.append((line, column, data[i + 2], TOKEN_TYPES[data[i + 3]]))
    lines = MAIN.splitlines()
    kinds = {lines[ln][c : c + n]: kind for ln, c, n, kind in decoded}
    assert kinds["rule"] == "keyword"
    assert kinds["pain"] == "property"  # a fact
    assert kinds["stretching"] == "enumMember"  # an option
    assert kinds["nice"] == "namespace"  # a source
    assert kinds["hurts"] == "class"  # a rule
    assert kinds['"Clinic"'] == "string"


@with_server
async def test_an_included_file_is_checked_as_part_of_its_includer(client: LanguageClient, tmp_path: Path):
    # alone, extra.cramp's fact and option would be unused; with main.cramp they are used
    uri = open_file(client, tmp_path / "extra.cramp")
    assert await diagnostics_for(client, uri) == []
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(1, 9))
    )
    assert hover is not None
    assert "Stretch the calves before bed" in hover.contents.value  # type: ignore[union-attr]
    change(client, uri, EXTRA.replace("option stretching", "option"), version=2)
    [found] = await diagnostics_for(client, uri)
    assert (found.code, found.range.start.line) == ("syntax", 1)


def test_strict_shows_inferred_names_as_warnings(tmp_path: Path) -> None:
    async def run() -> None:
        async with started(tmp_path, {"strict": True}) as client:
            text = (
                MAIN
                + '\nrule thirsty:\n    if sweating\n    then recommend stretching\n    because "x" cite nice\n'
            )
            uri = open_file(client, tmp_path / "main.cramp", text)
            found = await diagnostics_for(client, uri)
            assert [(d.code, d.severity) for d in found] == [
                ("inferred-fact", types.DiagnosticSeverity.Warning)
            ]

    asyncio.run(run())


@with_server
async def test_saving_an_included_file_checks_the_open_file_that_includes_it(
    client: LanguageClient, tmp_path: Path
):
    main = open_file(client, tmp_path / "main.cramp")
    assert await diagnostics_for(client, main) == []
    extra = open_file(client, tmp_path / "extra.cramp")
    assert await diagnostics_for(client, extra) == []
    renamed = EXTRA.replace("option stretching", "option stretchin")
    change(client, extra, renamed, version=2)
    (tmp_path / "extra.cramp").write_text(renamed, encoding="utf-8")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=extra))
    )
    found = await diagnostics_for(client, main)
    assert [d.code for d in found] == ["typo-name"]
    assert "did you mean 'stretchin'?" in found[0].message
