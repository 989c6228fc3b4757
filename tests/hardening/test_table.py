"""Issue 15, row by row: each edge found by trying cramprules as a hostile user.

Every test asserts the exit code and the one line that the user reads.
"""

from __future__ import annotations

import decimal
import json
import numbers
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import click.testing
import pytest

import cramprules
from cramprules import FactError, Limits

PY = [sys.executable, "-m", "cramprules"]
ENV = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1", "NO_COLOR": "1"}


def one_line(result: click.testing.Result) -> str:
    """The error a command printed: one line, starting with ``error:``, a few hundred characters at most."""
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert len(lines[0]) <= 500, len(lines[0])
    return lines[0]


# ---------------------------------------------------------------- output replaces special files


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_device_is_written_in_place_and_its_error_reported(run) -> None:
    result = run("eval", "--fact", "pain=9", "--output", "/dev/full")
    assert result.exit_code == 2
    assert one_line(result) == "error: cannot write /dev/full: No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device, not a regular file


def test_a_symlink_output_writes_its_target_and_stays_a_link(run, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result = run("eval", "--fact", "prolonged", "--output", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert "URGENT" in target.read_text().upper()


def test_a_fifo_output_is_written_in_place(run, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = run("eval", "--fact", "pain=9", "--output", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert "Leg cramps" in received[0]


def test_dev_stdout_is_written_not_replaced() -> None:
    done = subprocess.run(
        [*PY, "eval", "--fact", "pain=9", "--output", "/dev/stdout"],
        capture_output=True, text=True, env=ENV, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Leg cramps" in done.stdout
    assert not Path("/dev/stdout").is_file() or Path("/dev/stdout").is_symlink()


def test_dev_stdout_redirected_to_a_file_writes_that_file_in_place(tmp_path: Path) -> None:
    redirected = tmp_path / "out.txt"
    with redirected.open("w") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        done = subprocess.run(
            [*PY, "eval", "--fact", "pain=9", "--output", "/dev/stdout"],
            stdout=handle, stderr=subprocess.PIPE, text=True, env=ENV, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert redirected.stat().st_ino == inode  # the shell's file, not a new one renamed over it
    assert "Leg cramps" in redirected.read_text()


# ---------------------------------------------------------------- symlinks replaced by fmt


def test_fmt_formats_a_symlinks_target_and_keeps_the_link(run, tmp_path: Path) -> None:
    target = tmp_path / "real.cramp"
    target.write_text("fact   a :bool\nif a then recommend x\n")
    link = tmp_path / "linked.cramp"
    link.symlink_to(target)
    result = run("fmt", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert target.read_text().startswith("fact a: bool\n")


# ---------------------------------------------------------------- permissions


def test_a_new_output_follows_the_umask_and_an_old_one_keeps_its_mode(run, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        result = run("eval", "--fact", "pain=9", "--output", str(tmp_path / "new.txt"))
    finally:
        os.umask(old)
    assert result.exit_code == 0
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    kept = tmp_path / "kept.txt"
    kept.write_text("")
    kept.chmod(0o640)
    assert run("eval", "--fact", "pain=9", "--output", str(kept)).exit_code == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert kept.read_text()


# ---------------------------------------------------------------- huge error messages


def test_a_huge_value_or_key_gives_a_short_line(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"pain": "9" * 1_000_000}))
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith("error: pain = '9999")
    assert "\u2026" in line
    facts.write_text(json.dumps({"x" * 1_000_000: 1}))
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result).startswith("error: unknown fact 'xxxx")


def test_a_name_with_a_line_break_or_a_huge_name_gives_one_short_line(run) -> None:
    """Found by ``tox -e fuzz``: ``explain --why-not`` quoted the name as given."""
    result = run("explain", "--why-not", "\n")
    assert result.exit_code == 2
    assert one_line(result) == (
        "error: --why-not: ruleset 'leg_cramps' has no '<U+000A line feed>'; it is not a rule, option, cause or referral"
    )
    result = run("explain", "--why-not", "y" * 1_000_000)
    assert result.exit_code == 2
    assert len(one_line(result)) < 400


def test_a_long_source_line_is_shown_cut_around_the_error(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "long.cramp"
    ruleset.write_text("fact a: bool\nif a " + "and a " * 4_000 + "&& a then recommend x\n")
    result = run("check", str(ruleset))
    assert result.exit_code == 3
    first, shown = result.stdout.split("\n")[:2]
    assert first.endswith("error: '&' cannot appear here")
    assert len(shown) < 200
    assert shown.startswith(" 2 | \u2026")
    assert "&& a" in shown


# ---------------------------------------------------------------- YAML alias bomb


def test_a_yaml_alias_bomb_is_refused_before_it_is_built(run, tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    lines.append("pain: *j")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    result = run("eval", "--facts", str(bomb))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {bomb}: the YAML facts hold more than 100,000 values once their aliases are expanded"
    )


def test_yaml_aliases_within_the_limit_still_work(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.yaml"
    facts.write_text("base: &yes true\nnight_cramps: *yes\n".replace("base", "constipation"))
    result = run("eval", "--facts", str(facts), "--format", "json")
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------- includes: symlink loops, endless files


def test_an_include_of_a_symlink_loop_is_a_ruleset_error(run, tmp_path: Path) -> None:
    (tmp_path / "loop1.cramp").symlink_to("loop2.cramp")
    (tmp_path / "loop2.cramp").symlink_to("loop1.cramp")
    main = tmp_path / "main.cramp"
    main.write_text('include "loop1.cramp"\nfact a: bool\n')
    result = run("eval", str(main))
    assert result.exit_code == 3
    assert result.stderr.split("\n")[0].endswith(
        "main.cramp:1:1: error: cannot include 'loop1.cramp': its symbolic links form a loop"
    )


def test_an_endless_ruleset_file_stops_at_the_limit(run_with, tmp_path: Path) -> None:
    endless = tmp_path / "zero.cramp"
    endless.symlink_to("/dev/zero")
    result = run_with(Limits(max_source_chars=1_000))(["eval", str(endless)][0], str(endless))
    assert result.exit_code == 2
    assert one_line(result) == f"error: {endless}: the ruleset is larger than 4,000 bytes"


def test_an_include_of_something_not_a_file_is_refused_unread(run, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.cramp")  # reading it would block for ever
    main = tmp_path / "main.cramp"
    main.write_text('include "pipe.cramp"\nfact a: bool\n')
    result = run("eval", str(main))
    assert result.exit_code == 3
    assert "error: cannot include 'pipe.cramp': it is not a regular file" in result.stderr


def test_an_include_larger_than_the_limit_is_refused(run_with, tmp_path: Path) -> None:
    (tmp_path / "big.cramp").write_text("# " + "x" * 5_000 + "\n")
    main = tmp_path / "main.cramp"
    main.write_text('include "big.cramp"\nfact a: bool\n')
    result = run_with(Limits(max_source_chars=1_000))("eval", str(main))
    assert result.exit_code == 3
    assert "error: cannot include 'big.cramp': it is larger than 1,000 characters" in result.stderr


# ---------------------------------------------------------------- answers lost


def test_ask_checks_where_it_saves_before_asking(run) -> None:
    result = run("ask", "--answers", "/nonexistent/me.json", input="no\n")
    assert result.exit_code == 2
    assert one_line(result) == "error: cannot write /nonexistent/me.json: No such directory"
    result = run("ask", "--output", "/nonexistent/report.txt", input="no\n")
    assert result.exit_code == 2
    assert one_line(result) == "error: cannot write /nonexistent/report.txt: No such directory"


# ---------------------------------------------------------------- non-UTF-8 terminal


def test_a_latin1_terminal_gets_ascii_quotes() -> None:
    done = subprocess.run(
        [*PY, "eval", "--fact", "night_cramps"],
        capture_output=True, env={**ENV, "PYTHONIOENCODING": "latin-1"}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b'"Do the cramps come at night?"' in done.stdout


# ---------------------------------------------------------------- duplicate facts


def test_a_fact_given_twice_on_the_command_line_names_both_values(run) -> None:
    result = run("eval", "--fact", "pain=9", "--fact", "pain=2")
    assert result.exit_code == 2
    assert one_line(result) == (
        "error: --fact: 'pain' is given twice, as '9' and as '2'; give it once (see 'cli eval --help')"
    )
    assert run("eval", "--fact", "pain=9", "--fact", "pain=9").exit_code == 0  # the same value: no loss


def test_duplicate_json_and_yaml_keys_name_both_values(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text('{"pain": 9, "pain": 2}')
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert (
        one_line(result) == f"error: {facts}: the JSON facts give 'pain' twice, as 9 and as 2; give it once"
    )
    facts = tmp_path / "f.yaml"
    facts.write_text("pain: 9\nnight_cramps: yes\npain: 2\n")
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {facts}: line 3 of the YAML facts gives 'pain' twice, as 9 and as 2; give it once"
    )


# ---------------------------------------------------------------- surprising numbers


@pytest.mark.parametrize("value", ["1_0", "\uff11\uff10", "\u0669", "inf", "nan", "0x10"])
def test_numbers_use_ascii_digits_only(run, value: str) -> None:
    result = run("eval", "--fact", f"pain={value}")
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith(f"error: pain = '{value}' is not valid: pain takes a number from 0 to 10")


@pytest.mark.parametrize("value", ["9", "+9", "9.0", "9.", ".9", "9e0", " 9 "])
def test_the_one_number_syntax(run, value: str) -> None:
    assert run("eval", "--fact", f"pain={value}").exit_code == 0


# ---------------------------------------------------------------- one huge condition, many rules, big fact files


def test_one_huge_condition_is_refused_with_its_size(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "huge.cramp"
    declarations = "".join(f"fact f{i}: bool\n" for i in range(50))
    ruleset.write_text(
        declarations
        + "rule big: if "
        + " and ".join(f"f{i % 50}" for i in range(20_000))
        + " then recommend x\n"
    )
    result = run("eval", str(ruleset))
    assert result.exit_code == 3
    assert result.stderr.split("\n")[0] == (
        f"{ruleset}:51:14: error: this condition has 20,001 terms; the limit is 5,000"
    )


def test_many_rules_are_refused_before_parsing(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "many.cramp"
    ruleset.write_text("fact a: bool\n" + "if a then recommend rest_and_stretching_now\n" * 74_544)
    result = run("eval", str(ruleset))
    assert result.exit_code == 3
    assert (
        result.stderr.split("\n")[0] == f"{ruleset}: error: this file has 74,544 rules; the limit is 20,000"
    )


def test_big_fact_files_are_refused_by_size_and_by_records(run_with, tmp_path: Path) -> None:
    facts = tmp_path / "big.json"
    facts.write_text(json.dumps([{"pain": i % 10} for i in range(300)]))
    result = run_with(Limits(max_fact_bytes=1_000))("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {facts}: the facts file is larger than the limit of 1,000 bytes; "
        "split it, or raise Limits.max_fact_bytes"
    )
    result = run_with(Limits(max_records=100))("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: --facts: {facts} holds 300 records; the limit for one report each is 100 "
        "(use 'cramprules batch' for many records) (see 'cli eval --help')"
    )


def test_stdin_is_bounded_too(run_with) -> None:
    result = run_with(Limits(max_fact_bytes=100))("eval", "--facts", "-", input='{"pain": 1}' + " " * 200)
    assert result.exit_code == 2
    assert one_line(result) == "error: <stdin>: the facts are larger than the limit of 100 bytes"


# ---------------------------------------------------------------- messages that mislead


def test_a_missing_file_is_named_as_a_missing_file(run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "headache.cramp").write_text("fact pain: number\nif pain > 5 then recommend rest\n")
    result = run("explain", "headache.cram", "pain=6")
    assert result.exit_code == 2
    assert one_line(result) == "error: headache.cram: no such ruleset file; did you mean headache.cramp?"
    result = run("eval", "headache")
    assert result.exit_code == 2
    assert one_line(result) == (
        "error: there is no ruleset called 'headache', but there is a file headache.cramp: name the file"
    )


def test_json_lines_errors_name_the_line_of_the_file(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text('{"pain": 1}\n\n{"pain": 2}\n{"pain": }\n')
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {facts}: line 4 of the JSON Lines facts is not valid JSON: Expecting value at column 10"
    )


def test_test_on_a_folder_whose_files_include_each_other(run, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "a.cramp").write_text('include "b.cramp"\nfact x: bool\n')
    (loop / "b.cramp").write_text('include "a.cramp"\nfact y: bool\n')
    result = run("test", str(loop))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: PATH: every .cramp file under {loop} is included by another one, so none is a ruleset "
        f"(do they include each other?); name one: cramprules test {loop}/a.cramp (see 'cli test --help')"
    )


# ---------------------------------------------------------------- invisible characters, names


def test_a_byte_order_mark_at_the_start_is_accepted(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "bom.cramp"
    ruleset.write_bytes(b"\xef\xbb\xbffact a: bool\nif a then recommend x\n")
    assert run("eval", str(ruleset), "--fact", "a").exit_code == 0
    facts = tmp_path / "f.json"
    facts.write_bytes(b'\xef\xbb\xbf{"pain": 9}')
    assert run("eval", "--facts", str(facts)).exit_code == 0


def test_invisible_characters_are_named_by_code_point(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "nul.cramp"
    ruleset.write_text("fact a: bool\nif a\x00 then recommend x\n")
    result = run("check", str(ruleset))
    assert result.exit_code == 3
    assert result.stdout.split("\n")[0].endswith("nul.cramp:2:5: error: U+0000 NUL cannot appear here")
    ruleset.write_text("fact a: bool\nif a\u200b then recommend x\n")
    result = run("check", str(ruleset))
    assert result.stdout.split("\n")[0].endswith("error: U+200B zero width space cannot appear here")


def test_non_ascii_names_are_refused_at_the_character(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "fr.cramp"
    ruleset.write_text("fact douleur_\u00e9lev\u00e9e: bool\n")
    result = run("check", str(ruleset))
    assert result.exit_code == 3
    assert result.stdout.split("\n")[0].endswith(
        "fr.cramp:1:14: error: '\u00e9' (U+00E9 latin small letter e with acute) cannot be part of a name: "
        "names use ASCII letters, digits and _"
    )


# ---------------------------------------------------------------- API types


class _Int64:
    """Stands in for a numpy integer where numpy is not installed: an ``Integral`` that is not ``int``."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


numbers.Integral.register(_Int64)


class _Float32:
    """A ``numbers.Real`` that is not ``float``, as numpy's floating types are."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


numbers.Real.register(_Float32)


def test_decimal_and_numpy_numbers_are_numbers(engine: cramprules.Engine) -> None:
    rs = engine.default_ruleset()
    urgent = rs.evaluate({"pain": 9}).referrals
    assert urgent
    assert rs.evaluate({"pain": decimal.Decimal(9)}).referrals == urgent
    assert rs.evaluate({"pain": decimal.Decimal("9.0")}).referrals == urgent
    assert rs.evaluate({"pain": _Int64(9)}).referrals == urgent
    assert rs.evaluate({"pain": _Float32(9.0)}).referrals == urgent
    with pytest.raises(FactError, match="pain = Decimal"):
        rs.evaluate({"pain": decimal.Decimal("NaN")})


def test_real_numpy_numbers_are_numbers(engine: cramprules.Engine) -> None:
    rs = engine.default_ruleset()
    urgent = rs.evaluate({"pain": 9}).referrals
    numpy = pytest.importorskip("numpy")
    assert rs.evaluate({"pain": numpy.int64(9)}).referrals == urgent
    assert rs.evaluate({"pain": numpy.float32(9)}).referrals == urgent
    assert rs.evaluate({"night_cramps": numpy.bool_(True)}).facts["night_cramps"] is True


def test_a_record_that_is_not_a_mapping_is_named_as_such(engine: cramprules.Engine) -> None:
    rs = engine.default_ruleset()
    with pytest.raises(
        FactError, match=r"^record 1: facts must be a mapping of names to values, not a text$"
    ):
        rs.evaluate_many([{"pain": 1}, "oops"])


def test_zero_and_one_are_yes_and_no_in_json_as_on_the_command_line(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text('{"night_cramps": 1, "constipation": 0}')
    from_json = run("eval", "--facts", str(facts), "--format", "json")
    from_flags = run("eval", "--fact", "night_cramps=1", "--fact", "constipation=0", "--format", "json")
    assert from_json.exit_code == 0, from_json.stderr
    assert json.loads(from_json.stdout)["facts"] == json.loads(from_flags.stdout)["facts"]
    facts.write_text('{"night_cramps": 2}')
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert (
        one_line(result) == "error: night_cramps = 2 is not valid: night_cramps takes yes or no (true/false)"
    )


# ---------------------------------------------------------------- wording


def test_every_message_starts_with_error(run, tmp_path: Path, monkeypatch) -> None:
    result = run("eval", "--fact", "pain=9", "--output", str(tmp_path / "no" / "such" / "dir.txt"))
    assert result.exit_code == 2
    assert one_line(result) == f"error: cannot write {tmp_path}/no/such/dir.txt: No such directory"
    result = run("explain", "--fact", "pain=9", "--why-not", "nonsense_rule")
    assert result.exit_code == 2
    assert one_line(result).startswith("error: --why-not: ")
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = run("graph", "--format", "svg")
    assert result.exit_code == 2
    assert one_line(result).startswith("error: --format svg needs Graphviz's 'dot' program")


def test_a_record_of_the_wrong_kind_is_named_in_words(run, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text('[{"pain": 1}, 5]')
    result = run("eval", "--facts", str(facts))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {facts}: record 1 of the JSON facts is a number, not an object; "
        'each record is an object such as {"pain": 7}'
    )


def test_an_endless_answer_to_ask_is_skipped_in_bounded_pieces(run) -> None:
    result = run("ask", "--format", "json", input="y" * 50_000 + "\n")
    assert result.exit_code == 0, result.stderr
    assert "That answer is longer than 10,000 characters; please answer again." in result.stderr
    assert "y" * 10_001 not in result.stderr


def test_bytes_that_are_not_utf8_are_named_not_shown(run, tmp_path: Path) -> None:
    ruleset = tmp_path / "bad.cramp"
    ruleset.write_bytes(b"fact a: bool\nx\xff\n")
    result = run("eval", str(ruleset))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {ruleset}: cannot read the ruleset: not UTF-8 text: byte 0xFF on line 2 cannot be read; "
        "save it as UTF-8"
    )
    # The same whatever the stream's encoding settings (tox sets PYTHONIOENCODING=utf-8).
    for settings in ({}, {"PYTHONIOENCODING": "utf-8"}, {"LC_ALL": "C"}):
        done = subprocess.run(
            [*PY, "eval", "--facts", "-"],
            input=b"\xff{}",
            capture_output=True,
            env={**ENV, **settings},
            check=False,
        )
        assert done.returncode == 2, settings
        assert (
            done.stderr.decode()
            == "error: <stdin>: not UTF-8 text: byte 0xFF on line 1 cannot be read; send UTF-8\n"
        )
    done = subprocess.run(
        [*PY, "eval", "--facts", "-"], input=b"\xff{}", capture_output=True, env=ENV, check=False
    )
    assert done.returncode == 2
    assert (
        done.stderr.decode()
        == "error: <stdin>: not UTF-8 text: byte 0xFF on line 1 cannot be read; send UTF-8\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--facts", "a\x00.json"], "error: a<U+0000 NUL>.json: no such facts file"),
        (["eval", "a\x00.cramp"], "error: a<U+0000 NUL>.cramp: no such ruleset file"),
        (
            ["eval", "--fact", "pain=9", "--output", "a\x00.txt"],
            "error: cannot write a<U+0000 NUL>.txt: No such file (the name holds a NUL byte)",
        ),
        (
            ["ask", "--answers", "a\x00.json"],
            "error: cannot write a<U+0000 NUL>.json: No such file (the name holds a NUL byte)",
        ),
    ],
)
def test_a_nul_byte_in_a_file_name_is_a_missing_file_not_a_crash(run, args: list[str], message: str) -> None:
    # found by the fuzzer: open() raises ValueError for such a name
    result = run(*args)
    assert result.exit_code == 2
    assert one_line(result) == message


def test_an_include_with_a_nul_byte_is_a_bad_include_path(engine: cramprules.Engine, tmp_path: Path) -> None:
    with pytest.raises(cramprules.RulesetError, match=r"an include is a relative path to a \.cramp file"):
        engine.parse_ruleset('include "a\x00.cramp"\nfact a: bool\n', base_dir=tmp_path)
