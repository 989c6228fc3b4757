"""The language server: LSP over stdio with pygls, every answer from :mod:`.analysis`.

Each open ``.cramp`` file is checked as ``cramprules check`` checks it, a
short pause after the last keystroke and off the event loop, so typing never
waits for the checker.  Findings go to the file they are in, so an error in
an included file shows in that file.  The last analysis that loaded is kept
for hover, definition and completion while the text does not check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from cramprules import nodes
from cramprules._version import __version__
from cramprules.authoring.findings import CheckOptions
from cramprules.authoring.fmt import format_text
from cramprules.authoring.targets import includer_of
from cramprules.exceptions import Diagnostic, RulesetError
from cramprules.lsp.analysis import (
    KEYWORDS,
    Analysis,
    Token,
    analyse,
    completions,
    diagnostics_by_origin,
    fixes,
    path_of,
    symbols_of_document,
    tokens,
    word_at,
)
from cramprules.parser import parse

if TYPE_CHECKING:
    from cramprules.engine import Engine

__all__ = ["TOKEN_TYPES", "CrampServer", "build_server"]

log = logging.getLogger("cramprules.lsp")

TOKEN_TYPES = (
    "keyword", "string", "number", "comment", "operator", "function", "variable",
    "property", "enumMember", "event", "namespace", "class", "type",
)  # fmt: skip
"""The semantic token legend; each analysis kind maps to one of these."""

_TOKEN_OF = {
    "keyword": "keyword",
    "string": "string",
    "number": "number",
    "comment": "comment",
    "operator": "operator",
    "function": "function",
    "name": "variable",
    "fact": "property",
    "option": "enumMember",
    "cause": "event",
    "source": "namespace",
    "rule": "class",
    "group": "type",
}

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}

_SYMBOL_KIND = {
    "fact": types.SymbolKind.Variable,
    "option": types.SymbolKind.EnumMember,
    "cause": types.SymbolKind.Event,
    "source": types.SymbolKind.Namespace,
    "group": types.SymbolKind.Enum,
    "rule": types.SymbolKind.Function,
    "ruleset": types.SymbolKind.Module,
    "invariant": types.SymbolKind.Boolean,
    "example": types.SymbolKind.Object,
    "include": types.SymbolKind.File,
    "extends": types.SymbolKind.Package,
}

DEBOUNCE_SECONDS = 0.3


class CrampServer(LanguageServer):
    """The server and what it remembers per file: the last analysis, and the last one that loaded."""

    def __init__(self, engine: Engine) -> None:
        super().__init__("cramprules", __version__)
        self.engine = engine
        self.options = CheckOptions()
        self.analyses: dict[str, Analysis] = {}
        self.loaded: dict[str, Analysis] = {}
        self.published: dict[str, set[str]] = {}
        """For each open file, the files it last published findings to (to clear them)."""
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.own_only: set[str] = set()
        """Open files checked as part of the file that includes them: they show only their own findings."""

    # ------------------------------------------------------------ checking

    def origin_of(self, uri: str) -> str:
        return to_fs_path(uri) or uri

    def check_now(self, uri: str) -> Analysis:
        """Check the open text of ``uri`` (blocking: run it in a thread).

        A file that another file includes is checked as part of that file, as
        ``check`` checks it; its own findings are kept (the includer's own
        are its business).  Until it is saved, the includer reads it from
        disk, so an unsaved text that does not parse shows its syntax errors.
        """
        document = self.workspace.get_text_document(uri)
        origin = self.origin_of(uri)
        path = Path(origin)
        includer = includer_of(path) if path.is_absolute() and path.is_file() else None
        if includer is not None:
            analysis = self._as_included(document.source, path, includer)
            self.own_only.add(uri)
        else:
            directory = path.parent if path.is_absolute() else None
            analysis = analyse(
                self.engine, document.source, origin, directory=directory, options=self.options
            )
            self.own_only.discard(uri)
        self.analyses[uri] = analysis
        if analysis.loaded:
            self.loaded[uri] = analysis
        return analysis

    def _as_included(self, text: str, path: Path, includer: Path) -> Analysis:
        opened = next(
            (
                d.source
                for u, d in self.workspace.text_documents.items()
                if _same(self.origin_of(u), includer)
            ),
            None,
        )
        includer_text = opened if opened is not None else includer.read_text(encoding="utf-8")
        analysis = analyse(
            self.engine, includer_text, str(includer), directory=includer.parent, options=self.options
        )
        try:
            saved = path.read_text(encoding="utf-8")
        except OSError:
            saved = None
        if text != saved:
            try:
                parse(text, str(path))
            except RulesetError as exc:
                return attrs.evolve(analysis, findings=exc.diagnostics)
        return analysis

    async def check_and_publish(self, uri: str, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        version = self.workspace.get_text_document(uri).version
        try:
            analysis = await asyncio.get_running_loop().run_in_executor(None, self.check_now, uri)
        except Exception:  # the checker failing must not take the editor's server down
            log.exception("checking %s failed", uri)
            return
        if self.workspace.get_text_document(uri).version != version:
            return  # the text changed while it was checked: a newer check is on its way
        self.publish(uri, analysis)

    def schedule(self, uri: str, delay: float) -> None:
        """Check ``uri`` after ``delay`` seconds unless the text changes again first."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self.check_and_publish(uri, delay))

    def publish(self, uri: str, analysis: Analysis) -> None:
        main = self.origin_of(uri)
        # With strict on, check's own findings include the inferred names, as --strict does.
        grouped = diagnostics_by_origin(analysis.findings, main)
        targets: dict[str, list[types.Diagnostic]] = {uri: []}
        for origin, found in grouped.items():
            target = uri if _same(origin, Path(main)) else _uri_of(origin)
            if target is None or (target != uri and uri in self.own_only):
                continue
            targets.setdefault(target, []).extend(to_lsp(d) for d in found)
        for stale in self.published.get(uri, set()) - set(targets):
            targets[stale] = []
        self.published[uri] = set(targets)
        for target, diagnostics in targets.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=diagnostics)
            )

    def analysis_for(self, uri: str) -> Analysis | None:
        """The last analysis that loaded, else the last one."""
        return self.loaded.get(uri) or self.analyses.get(uri)

    def analysis_with(self, uri: str) -> tuple[Analysis, str] | None:
        """An analysis that read ``uri``: its own, or that of an open file including it."""
        origin = self.origin_of(uri)
        own = self.analysis_for(uri)
        if own is not None:
            return own, origin
        for other in self.loaded.values():
            for read, _ in other.texts:
                found = path_of(read)
                if found is not None and str(found.resolve()) == str(Path(origin).resolve()):
                    return other, read
        return None


def _same(origin: str, path: Path) -> bool:
    found = path_of(origin)
    return found is not None and found.resolve() == path.resolve()


def _uri_of(origin: str) -> str | None:
    path = path_of(origin)
    return from_fs_path(str(path.resolve())) if path is not None else None


def to_lsp(diagnostic: Diagnostic) -> types.Diagnostic:
    """A finding as the editor shows it: the code, and the hint under the message."""
    line = max((diagnostic.line or 1) - 1, 0)
    column = max((diagnostic.column or 1) - 1, 0)
    end = (diagnostic.end_column - 1) if diagnostic.end_column else column + 1
    if diagnostic.source_line is not None and not diagnostic.end_column:
        rest = diagnostic.source_line[column:]
        word = len(rest) - len(rest.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"))
        end = column + max(word, 1)
    message = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
    return types.Diagnostic(
        range=types.Range(types.Position(line, column), types.Position(line, end)),
        message=message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Information),
        code=diagnostic.code,
        source="cramprules",
    )


def _range(span: nodes.Span) -> types.Range:
    return types.Range(
        types.Position(span.line - 1, span.column - 1), types.Position(span.end_line - 1, span.end_column - 1)
    )


def _location(span: nodes.Span) -> types.Location | None:
    uri = _uri_of(span.origin)
    return types.Location(uri=uri, range=_range(span)) if uri else None


def build_server(engine: Engine) -> CrampServer:
    """A server with every feature registered; ``start_io()`` runs it."""
    server = CrampServer(engine)

    @server.feature(types.INITIALIZE)
    def initialize(ls: CrampServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and options.get("strict"):
            ls.options = attrs.evolve(ls.options, strict=True)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: CrampServer, params: types.DidOpenTextDocumentParams) -> None:
        await ls.check_and_publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CrampServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CrampServer, params: types.DidSaveTextDocumentParams) -> None:
        saved = params.text_document.uri
        ls.schedule(saved, 0.0)
        for uri in list(ls.workspace.text_documents):  # an open file may include the one saved
            if uri != saved:
                ls.schedule(uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CrampServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        for target in ls.published.pop(uri, set()):
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=[]))
        ls.analyses.pop(uri, None)
        ls.loaded.pop(uri, None)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: CrampServer, params: types.HoverParams) -> types.Hover | None:
        found = ls.analysis_with(params.text_document.uri)
        if found is None:
            return None
        analysis, _ = found
        text = ls.workspace.get_text_document(params.text_document.uri).source
        position = params.position
        word = _word(text, position)
        symbol = analysis.symbols.get(word) if word else None
        if symbol is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=symbol.detail),
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: CrampServer, params: types.DefinitionParams) -> types.Location | None:
        found = ls.analysis_with(params.text_document.uri)
        if found is None:
            return None
        analysis, _ = found
        word = _word(ls.workspace.get_text_document(params.text_document.uri).source, params.position)
        symbol = analysis.symbols.get(word) if word else None
        if symbol is None or symbol.span is None:
            return None
        return _location(symbol.span)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: CrampServer, params: types.ReferenceParams) -> list[types.Location]:
        found = ls.analysis_with(params.text_document.uri)
        if found is None:
            return []
        analysis, _ = found
        word = _word(ls.workspace.get_text_document(params.text_document.uri).source, params.position)
        if not word or word not in analysis.symbols:
            return []
        out = [_location(span) for span in analysis.references(word)]
        return [location for location in out if location is not None]

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[" ", ",", "["]),
    )
    def completion(ls: CrampServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        found = ls.analysis_with(uri)
        items = completions(text, params.position.line + 1, params.position.character + 1, found and found[0])
        kinds = {
            "keyword": types.CompletionItemKind.Keyword,
            "fact": types.CompletionItemKind.Variable,
            "option": types.CompletionItemKind.EnumMember,
            "cause": types.CompletionItemKind.Event,
            "source": types.CompletionItemKind.Reference,
            "rule": types.CompletionItemKind.Function,
            "group": types.CompletionItemKind.Enum,
        }
        return types.CompletionList(
            is_incomplete=False,
            items=[
                types.CompletionItem(
                    label=item.label,
                    kind=kinds.get(item.kind, types.CompletionItemKind.Value),
                    detail=item.detail or None,
                )
                for item in items
            ],
        )

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: CrampServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        try:
            formatted = format_text(text, ls.origin_of(uri))
        except RulesetError:
            return None  # the diagnostics already say why it does not parse
        if formatted == text:
            return []
        lines = text.split("\n")
        end = types.Position(len(lines) - 1, len(lines[-1]))
        return [types.TextEdit(range=types.Range(types.Position(0, 0), end), new_text=formatted)]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls: CrampServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        out = []
        for kind, name, span in symbols_of_document(text, ls.origin_of(uri)):
            whole = _range(span)
            first = types.Range(whole.start, types.Position(whole.start.line, whole.start.character + 1))
            out.append(
                types.DocumentSymbol(
                    name=name,
                    detail=kind,
                    kind=_SYMBOL_KIND.get(kind, types.SymbolKind.Key),
                    range=whole,
                    selection_range=first,
                )
            )
        return out

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: CrampServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        analysis = ls.analyses.get(uri)
        if analysis is None:
            return []
        text = ls.workspace.get_text_document(uri).source
        origin = ls.origin_of(uri)
        candidates = [d for d in (*analysis.findings, *analysis.inferred) if (d.origin or origin) == origin]
        wanted = params.range
        out = []
        for fix in fixes(text, candidates):
            line = (fix.diagnostic.line or 1) - 1
            if not wanted.start.line <= line <= wanted.end.line:
                continue
            edit = fix.edit
            change = types.TextEdit(
                range=types.Range(
                    types.Position(edit.line - 1, edit.column - 1),
                    types.Position(edit.end_line - 1, edit.end_column - 1),
                ),
                new_text=edit.text,
            )
            out.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[to_lsp(fix.diagnostic)],
                    edit=types.WorkspaceEdit(changes={uri: [change]}),
                    is_preferred=fix.diagnostic.code == "typo-name",
                )
            )
        return out

    @server.feature(
        types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
        types.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=[]),
    )
    def semantic_tokens(ls: CrampServer, params: types.SemanticTokensParams) -> types.SemanticTokens:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        found = ls.analysis_with(uri)
        return types.SemanticTokens(data=encode(tokens(text, found[0].symbols if found else {})))

    return server


def encode(found: Sequence[Token]) -> list[int]:
    """Semantic tokens in the protocol's relative encoding (5 integers each)."""
    data: list[int] = []
    line, column = 0, 0
    for token in found:
        row, start = token.line - 1, token.column - 1
        kind = TOKEN_TYPES.index(_TOKEN_OF[token.kind])
        delta_line = row - line
        delta_start = start - column if delta_line == 0 else start
        data += [delta_line, delta_start, token.length, kind, 0]
        line, column = row, start
    return data


def _word(text: str, position: types.Position) -> str | None:
    found = word_at(text, position.line + 1, position.character + 1)
    if found is None or found[0] in KEYWORDS:
        return None
    return found[0]
