"""``cramprules graph``: dot, mermaid and svg."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys

import pytest


def test_dot(run, mini):
    result = run("graph", str(mini))
    assert result.exit_code == 0
    dot = result.stdout
    assert dot.startswith("digraph cramprules {")
    assert '"fact_pain" -> "rule_red_flags";' in dot
    assert '"fact_bedtime" -> "rule_citrate_for_constipation" [label="unless", style="dashed"];' in dot
    assert '"rule_kidney_caution" -> "option_citrate" [label="avoid", style="dashed"];' in dot
    # a cause concluded by one rule and tested by another links cause -> rule
    assert '"rule_diuretic_loss" -> "cause_electrolyte_loss" [label="suspect"];' in dot
    assert '"cause_electrolyte_loss" -> "rule_replace_potassium";' in dot
    # the safety tier is red
    urgent = [line for line in dot.splitlines() if "refer_doctor" in line and "->" not in line]
    assert 'color="#c00000"' in urgent[0]
    assert '"rule_red_flags" -> "refer_doctor" [label="refer urgent", color="#c00000", penwidth="2"];' in dot


def test_dot_quotes_labels(run, tmp_path):
    tricky = tmp_path / "tricky.cramp"
    tricky.write_text('option weird "A \\"quoted\\" label"\nif a then recommend weird\n')
    result = run("graph", str(tricky))
    assert result.exit_code == 0, result.output
    assert 'label="A \\"quoted\\" label"' in result.stdout


def test_mermaid(run, mini):
    result = run("graph", str(mini), "--format", "mermaid")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("flowchart LR\n")
    assert "  fact_pain --> rule_red_flags" in text
    assert '  rule_red_flags ==>|"refer urgent"| refer_doctor' in text
    assert "  fact_bedtime -. unless .-> rule_citrate_for_constipation" in text
    assert "  class rule_red_flags,refer_doctor urgent" in text


def test_overrides_are_drawn(run, tmp_path):
    path = tmp_path / "o.cramp"
    path.write_text(
        "rule a:\n    if x\n    then recommend rest\n"
        "rule b:\n    if y\n    then recommend walk\n    overrides a\n"
    )
    result = run("graph", str(path))
    assert '"rule_b" -> "rule_a" [label="overrides", style="dotted"];' in result.stdout


def test_svg_without_graphviz_is_a_clear_error(run, mini, monkeypatch):
    monkeypatch.setattr("cramprules.cli.graph.shutil.which", lambda name: None)
    result = run("graph", str(mini), "--format", "svg")
    assert result.exit_code == 2
    assert "install Graphviz" in result.stderr
    assert "--format dot" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """A stand-in for Graphviz's dot: wraps its input in an <svg> element."""
    script = tmp_path / "dot"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "assert sys.argv[1:] == ['-Tsvg'], sys.argv\n"
        "text = sys.stdin.read()\n"
        "if 'digraph' not in text: sys.exit('syntax error')\n"
        "print('<svg><!--', len(text.splitlines()), '--></svg>')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("cramprules.cli.graph.shutil.which", lambda name: str(script))
    return script


def test_svg_pipes_dot_through_graphviz(run, mini, fake_dot, tmp_path):
    dot_lines = len(run("graph", str(mini)).stdout.splitlines())
    out = tmp_path / "g.svg"
    result = run("graph", str(mini), "--format", "svg", "-o", str(out))
    assert result.exit_code == 0
    assert out.read_text() == f"<svg><!-- {dot_lines} --></svg>\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_with_the_real_graphviz(run, mini):
    result = run("graph", str(mini), "--format", "svg")
    assert result.exit_code == 0
    assert "<svg" in result.stdout
    assert "red_flags" in result.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_output_is_valid_graphviz(run):
    dot = run("graph").stdout
    done = subprocess.run(["dot", "-Tplain"], input=dot, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_default_ruleset(run):
    result = run("graph", "--format", "mermaid")
    assert result.exit_code == 0
    assert "refer_doctor" in result.stdout


def test_unknown_graph_format(run):
    result = run("graph", "--format", "png")
    assert result.exit_code == 2
    assert "'png' is not one of" in result.stderr


def test_include_testing(run, tmp_path):
    ruleset = tmp_path / "t.cramp"
    ruleset.write_text("rule trial:\n    if a\n    then recommend rest\n    status testing\n")
    assert "rule_trial" not in run("graph", str(ruleset)).stdout
    assert '"fact_a" -> "rule_trial";' in run("graph", str(ruleset), "--include-testing").stdout
