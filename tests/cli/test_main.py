"""The command group: version, help, exit codes, errors, start-up, completion, colour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click.testing
import pytest
from click.shell_completion import ShellComplete

import cramprules
from cramprules.cli import COMMANDS, EXIT_CODES, App, cli, main

MINE = ("eval", "ask", "explain", "graph", "batch")


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"cramprules, version {cramprules.__version__}\n"


def test_help_lists_commands_and_exit_codes(run):
    result = run("--help")
    assert result.exit_code == 0
    for name in MINE:
        assert f"  {name} " in result.stdout
    epilog = " ".join(result.stdout.split("Exit codes:")[1].split())
    for code, text in EXIT_CODES.items():
        assert f"{code} {text.split(':')[0]}" in epilog


@pytest.mark.parametrize("name", MINE)
def test_every_command_has_help_with_an_example(run, name):
    result = run(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert f"cramprules {name}" in result.stdout.split("Examples:")[1]


def test_short_help_option(run):
    assert run("eval", "-h").stdout == run("eval", "--help").stdout


def test_unknown_command_is_a_usage_error(run):
    result = run("evaluate")
    assert result.exit_code == 2
    assert "No such command 'evaluate'" in result.stderr


def test_every_listed_command_module_is_importable_or_absent():
    for name, (module, _) in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        if command is not None:
            assert command.name == name, module


# ---------------------------------------------------------------- exit codes


def test_exit_0_on_success(run):
    assert run("eval", "--fact", "pain=9").exit_code == 0


def test_exit_1_when_records_were_skipped(run, mini, tmp_path):
    records = tmp_path / "r.jsonl"
    records.write_text('{"pain": 3}\n{"painn": 3}\n')
    result = run("batch", str(mini), str(records), "--skip-invalid")
    assert result.exit_code == 1
    assert "record 1: unknown fact 'painn'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--no-such-option"], "No such option"),
        (["eval", "--fact", "painn=9"], "did you mean 'pain'?"),
        (["eval", "--fact", "pain=eleven"], "pain takes a number"),
        (["eval", "--fact", "pain=11"], "out of range"),
        (["eval", "--fact", "=9"], "has no fact name"),
        (["eval", "--format", "jsn"], "did you mean 'json'?"),
        (["eval", "--facts", "missing.json"], "no such facts file"),
        (["eval", "no_such_ruleset"], "there is no ruleset called"),
    ],
)
def test_exit_2_on_usage_or_input_errors(run, args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_3_on_a_ruleset_error_with_file_line_column(run, tmp_path):
    bad = tmp_path / "bad.cramp"
    bad.write_text("if constipation and then prefer citrate\n")
    result = run("eval", str(bad), "--fact", "constipation")
    assert result.exit_code == 3
    assert f"{bad}:1:" in result.stderr
    assert "^" in result.stderr
    assert "Traceback" not in result.stderr


class BrokenFormat:
    """A fake plugin whose format fails."""

    @cramprules.hookimpl
    def cramprules_formats(self):
        def broken(report):
            raise RuntimeError("boom")

        return {"broken": broken}


def test_exit_4_on_a_plugin_error():
    app = App(engine=cramprules.Engine(plugins=[BrokenFormat()], autoload=False))
    result = click.testing.CliRunner().invoke(cli, ["eval", "--format", "broken"], obj=app)
    assert result.exit_code == 4
    assert result.stderr.startswith("plugin error: format 'broken'")
    assert "boom" in result.stderr


@pytest.fixture
def no_autoload(monkeypatch):
    monkeypatch.setenv("CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_main_returns_the_exit_code(no_autoload, capsys, mini, tmp_path):
    assert main(["eval", "--fact", "pain=9", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["referrals"][0]["urgent"] is True
    assert main(["eval", "--fact", "painn=9"]) == 2
    records = tmp_path / "r.jsonl"
    records.write_text('{"pain": 3}\n{"painn": 3}\n')
    # ``ctx.exit(1)`` inside a command must survive click's non-standalone mode
    assert main(["batch", str(mini), str(records), "--skip-invalid"]) == 1


def test_main_internal_error_has_no_traceback_unless_debug(no_autoload, capsys, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr("cramprules.cli.eval.evaluate_records", explode)
    assert main(["eval"]) == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaput" in err
    assert "Traceback" not in err
    assert main(["--debug", "eval"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_debug_shows_the_traceback_of_a_cramprules_error(run):
    quiet = run("eval", "--fact", "painn=9")
    assert "Traceback" not in quiet.stderr
    loud = run("--debug", "eval", "--fact", "painn=9")
    assert loud.exit_code == 2
    assert "Traceback" in loud.stderr
    assert "FactError" in loud.stderr


def test_main_with_plugin_disabled(no_autoload, capsys):
    assert main(["-p", "no:markdown", "eval", "--format", "markdown"]) == 2
    assert "unknown format 'markdown'" in capsys.readouterr().err


def test_bad_plugin_option(run):
    result = run("-p", "markdown", "eval")
    assert result.exit_code == 2
    assert "expected 'no:NAME'" in result.stderr


# ---------------------------------------------------------------- start-up


PROBE = """
import json, sys
from cramprules.cli import main
main(sys.argv[1:])
heavy = [m for m in sys.modules if m.split(".")[0] in ("lark", "pluggy")
         or m in ("cramprules.parser", "cramprules.engine", "cramprules.plugins", "importlib.metadata")]
print(json.dumps(sorted(heavy)))
"""


def _imported(*args: str) -> list[str]:
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": ""}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, env=env, timeout=60
    )
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("args", [["--version"], ["eval", "--help"], ["--help"], ["batch", "--help"]])
def test_start_up_loads_no_parser_and_no_plugins(args):
    heavy = [m for m in _imported(*args) if not m.startswith("pluggy")]
    assert heavy == []


def test_start_up_does_not_even_import_pluggy():
    assert [m for m in _imported("--version") if m.startswith("pluggy")] == []


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "cramprules", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("cramprules, version")


# ---------------------------------------------------------------- completion


def _completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(cli, {}, "cramprules", "_CRAMPRULES_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


def test_completion_of_commands():
    assert _completions([], "ev") == ["eval"]
    assert set(_completions([], "")) >= set(MINE)


def test_completion_of_formats(no_autoload):
    formats = _completions(["eval", "--format"], "")
    assert {"text", "json"} <= set(formats)
    assert _completions(["eval", "--format"], "js") == ["json"]


def test_completion_of_ruleset_names(no_autoload):
    assert "leg_cramps" in _completions(["eval"], "leg")


def test_completion_through_the_environment_variable_as_documented():
    env = {
        **os.environ,
        "_CRAMPRULES_COMPLETE": "bash_complete",
        "COMP_WORDS": "cramprules ev",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cramprules"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.stdout.split() == ["plain,eval"]


def test_completion_script_for_each_documented_shell():
    for shell in ("bash", "zsh", "fish"):
        env = {**os.environ, "_CRAMPRULES_COMPLETE": f"{shell}_source"}
        done = subprocess.run(
            [sys.executable, "-m", "cramprules"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert "_CRAMPRULES_COMPLETE" in done.stdout, shell


# ---------------------------------------------------------------- colour


@pytest.fixture
def terminal(monkeypatch):
    """Pretend stdout and stderr are terminals."""
    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)


def _invoke_colour(args: list[str], env: dict[str, str] | None = None) -> click.testing.Result:
    app = App(engine=cramprules.Engine(autoload=False))
    return click.testing.CliRunner().invoke(cli, args, obj=app, color=True, env=env)


def test_colour_on_a_terminal(terminal, mini):
    assert "\x1b[" in _invoke_colour(["eval", "--fact", "pain=9"], env={"NO_COLOR": ""}).stdout
    assert "\x1b[" in _invoke_colour(["explain", str(mini), "pain=9"], env={"NO_COLOR": ""}).stdout


def test_no_colour_with_no_color(terminal, mini):
    assert "\x1b[" not in _invoke_colour(["eval", "--fact", "pain=9"], env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in _invoke_colour(["explain", str(mini), "pain=9"], env={"NO_COLOR": "1"}).stdout


def test_no_colour_when_piped(mini):
    assert "\x1b[" not in _invoke_colour(["eval", "--fact", "pain=9"], env={"NO_COLOR": ""}).stdout
    assert "\x1b[" not in _invoke_colour(["explain", str(mini), "pain=9"], env={"NO_COLOR": ""}).stdout


def test_no_colour_in_files(terminal, tmp_path):
    out = tmp_path / "report.txt"
    assert _invoke_colour(["eval", "--fact", "pain=9", "-o", str(out)], env={"NO_COLOR": ""}).exit_code == 0
    assert "\x1b[" not in out.read_text()


def test_colour_decision(monkeypatch):
    from cramprules.cli._common import color_enabled

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert color_enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("TERM", "dumb")
    assert not color_enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "xterm")
    with Path(__file__).open() as not_a_terminal:
        assert not color_enabled(not_a_terminal)
