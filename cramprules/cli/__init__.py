"""The ``cramprules`` command line.

Commands live in their own modules and are imported only when run, so
``cramprules --version`` and ``--help`` start without loading the parser or
any plugin.

Exit codes (stable):

    0  success
    1  findings: failed checks or tests, files that need formatting
    2  usage or input error: a bad option, an unknown or invalid fact
    3  ruleset error: syntax or semantic errors in a .cramp file
    4  plugin error: a plugin failed or misbehaved
   70  internal error: a bug in cramprules (please report it)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any as AnyType

import click

from cramprules._version import __version__

__all__ = ["EXIT_CODES", "App", "CliError", "cli", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_RULESET, EXIT_PLUGIN, EXIT_INTERNAL = 0, 1, 2, 3, 4, 70
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FINDINGS: "findings: failed checks or tests, files that need formatting",
    EXIT_USAGE: "usage or input error: a bad option, an unknown or invalid fact",
    EXIT_RULESET: "ruleset error: syntax or semantic errors in a .cramp file",
    EXIT_PLUGIN: "plugin error: a plugin failed or misbehaved",
    EXIT_INTERNAL: "internal error: a bug in cramprules",
}

COMMANDS = {
    "eval": ("cramprules.cli.eval", "Evaluate facts against a ruleset and print the report."),
    "ask": ("cramprules.cli.ask", "A consultation: asks only the questions that matter."),
    "explain": ("cramprules.cli.explain", "Explain how each outcome was reached, and why not."),
    "check": ("cramprules.cli.check", "Parse and analyse rulesets; report every finding."),
    "fmt": ("cramprules.cli.fmt", "Format .cramp files in the one canonical layout."),
    "test": ("cramprules.cli.test", "Run the examples in rulesets, with rule coverage."),
    "graph": ("cramprules.cli.graph", "Draw facts -> rules -> outcomes as dot, mermaid or svg."),
    "batch": ("cramprules.cli.batch", "Evaluate many records from a file, in parallel."),
    "plugins": ("cramprules.cli.plugins", "List the loaded plugins: where from, which hooks."),
    "serve": ("cramprules.cli.serve", "Serve CDS Hooks and a JSON evaluation API over HTTP."),
    "lsp": ("cramprules.cli.lsp", "Run the language server for editors (LSP over stdio)."),
}


class CliError(click.ClickException):
    """An error shown as one message on stderr, with the exit code it deserves.

    ``main()`` and ``CliRunner`` both turn it into the same output and exit
    code, so the tests see exactly what a person at a terminal sees.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: AnyType = None) -> None:
        click.echo(self.format_message(), err=True)


class App:
    """What every command shares: the engine, built on first use from the options."""

    def __init__(
        self,
        *,
        plugin_args: Sequence[str] = (),
        autoload: bool | None = None,
        debug: bool = False,
        engine: AnyType = None,
    ) -> None:
        self.plugin_args = tuple(plugin_args)
        self.autoload = autoload
        self.debug = debug
        self._engine = engine

    @property
    def engine(self) -> AnyType:
        if self._engine is None:
            from cramprules.engine import Engine

            disabled = [a[3:] for a in self.plugin_args if a.startswith("no:")]
            self._engine = Engine(autoload=self.autoload, disable=disabled)
        return self._engine

    def load_ruleset(self, ruleset: str | None, *, include_testing: bool = False) -> AnyType:
        if ruleset is None:
            return self.engine.default_ruleset(include_testing=include_testing)
        from pathlib import Path

        from cramprules.exceptions import UnknownRuleset, shorten

        looks_like_path = "." in ruleset or "/" in ruleset or os.sep in ruleset
        if looks_like_path and not Path(ruleset).exists() and ruleset not in self.engine.ruleset_names():
            beside = Path(ruleset).with_suffix(".cramp")
            hint = f"; did you mean {beside}?" if beside.is_file() else ""
            raise CliError(f"error: {shorten(ruleset)}: no such ruleset file{hint}")
        try:
            return self.engine.load_ruleset(ruleset, include_testing=include_testing)
        except UnknownRuleset:
            if Path(ruleset + ".cramp").is_file():
                raise CliError(
                    f"error: there is no ruleset called '{shorten(ruleset)}', but there is a file "
                    f"{shorten(ruleset)}.cramp: name the file"
                ) from None
            raise

    @property
    def disabled_plugins(self) -> tuple[str, ...]:
        """The plugins ``-p no:NAME`` disabled, for engines rebuilt in worker processes."""
        return tuple(a[3:] for a in self.plugin_args if a.startswith("no:"))


class LazyGroup(click.Group):
    """A group whose commands are imported when they are run or asked for help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _exists(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _exists(COMMANDS[name][0]):
            return None
        module = importlib.import_module(COMMANDS[name][0])
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> AnyType:
        """Run a command, turning a cramprules error into one message and an exit code."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise CliError(one_line_usage_error(exc), exc.exit_code) from None
        except click.ClickException:
            raise
        except Exception as exc:
            from cramprules.exceptions import CramprulesError

            if not isinstance(exc, CramprulesError):
                raise
            debug = bool(ctx.params.get("debug")) or bool(getattr(ctx.obj, "debug", False))
            message, code = describe_error(exc, debug)
            raise CliError(message, code) from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (module, help_) in COMMANDS.items() if _exists(module)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def one_line_usage_error(exc: click.UsageError) -> str:
    """click's three-line usage error as one line: ``error: --fact: ... (see 'cramprules eval --help')``."""
    from cramprules.exceptions import shorten

    message = exc.message
    if isinstance(exc, click.BadParameter):
        hint = exc.param_hint
        if hint is None and exc.param is not None:
            hint = exc.param.get_error_hint(exc.ctx) if exc.ctx is not None else exc.param.name
        if isinstance(hint, (list, tuple)):
            hint = " / ".join(hint)
        if hint:
            message = f"{str(hint).strip(chr(39))}: {message}"
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return f"error: {shorten(' '.join(message.split()).rstrip('.'), 400)}{where}"


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _plugin_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        if not item.startswith("no:") or len(item) == 3:
            raise click.BadParameter(f"expected 'no:NAME' to disable a plugin, got '{item}'")
    return value


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: "
    + "; ".join(f"{code} {text.split(':')[0]}" for code, text in EXIT_CODES.items())
    + ". See `cramprules COMMAND --help` for examples.",
)
@click.version_option(__version__, "-V", "--version", prog_name="cramprules")
@click.option(
    "-p",
    "plugin_args",
    multiple=True,
    metavar="no:NAME",
    callback=_plugin_option,
    help="Disable the plugin NAME (built-in or installed). Repeatable.",
)
@click.option(
    "--disable-plugin-autoload",
    is_flag=True,
    default=None,
    help="Load no installed plugins (also: CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD=1).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.pass_context
def cli(
    ctx: click.Context, plugin_args: tuple[str, ...], disable_plugin_autoload: bool | None, debug: bool
) -> None:
    """cramprules: cited, explainable recommendations from rulesets.

    With no RULESET, commands use the bundled leg-cramps ruleset.

    \b
    Examples:
      cramprules eval --fact pain=9
      cramprules eval --fact constipation --fact long_term --format json
      cramprules ask
    """
    if ctx.obj is None:
        ctx.obj = App(
            plugin_args=plugin_args,
            autoload=False if disable_plugin_autoload else None,
            debug=debug,
        )


def describe_error(exc: BaseException, debug: bool) -> tuple[str, int]:
    """The message and exit code of an error; with ``debug``, print its traceback first."""
    from cramprules.exceptions import (
        MAX_MESSAGE,
        CramprulesError,
        FactError,
        PluginError,
        RulesetError,
        shorten,
    )

    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, RulesetError):
        return str(exc), EXIT_RULESET
    text = shorten(" ".join(str(exc).split()), MAX_MESSAGE)  # one line, whatever a plugin put in it
    if isinstance(exc, FactError):
        return f"error: {text}", EXIT_USAGE
    if isinstance(exc, PluginError):
        return f"plugin error: {text}", EXIT_PLUGIN
    if isinstance(exc, CramprulesError):
        return f"error: {text}", EXIT_USAGE
    message = (
        f"internal error: {type(exc).__name__}: {text}\n"
        "This is a bug in cramprules; run again with --debug and report the traceback."
    )
    return message, EXIT_INTERNAL


def report_error(exc: BaseException, debug: bool) -> int:
    """Print an error to stderr as one clear message; return its exit code."""
    message, code = describe_error(exc, debug)
    click.echo(message, err=True)
    return code


_ASCII = {
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2026": "...",
    "\u2013": "-", "\u2014": "-", "\u2192": "->", "\u2264": "<=", "\u2265": ">=", "\u00b7": ".",
}  # fmt: skip


def _degrade(error: UnicodeError) -> tuple[str, int]:
    """A character the terminal cannot show: its ASCII look-alike, or ``?``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_ASCII.get(ch, "?") for ch in bad), error.end


def degrade_output_encoding() -> None:
    """On a terminal that is not UTF-8 (``PYTHONIOENCODING=latin-1``, an old
    console), show typographic quotes as ASCII ones instead of failing."""
    import codecs
    import contextlib

    codecs.register_error("cramprules-ascii", _degrade)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and encoding not in ("utf8", "utf8sig", "utf16", "utf32"):
            with contextlib.suppress(ValueError, OSError):  # a closed or odd stream: leave it as it is
                reconfigure(errors="cramprules-ascii")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns (and exits with) the exit code."""
    degrade_output_encoding()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        # Without standalone mode, click returns the code of ``ctx.exit(n)``.
        result = cli.main(args=args, prog_name="cramprules", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except BrokenPipeError:
        # The reader went away (`cramprules eval | head`): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except Exception as exc:  # noqa: BLE001 - the last resort: a message, not a traceback
        code = report_error(exc, debug)
    else:
        code = result if isinstance(result, int) and not isinstance(result, bool) else 0
    if argv is None:
        sys.exit(code)
    return code
