"""The grammar and the bundled rulesets travel inside the wheel.

These tests build a wheel of the checkout, install it into a fresh virtual
environment, and use it from an unrelated directory; then the same with an
editable install.  They need network access to the package index (for the
build backend and the dependencies), so they are marked ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

PROBE = """
import json, cramprules
rs = cramprules.default_ruleset()
report = rs.evaluate({"prolonged": True, "constipation": True, "long_term": True})
from cramprules import _resources
print(json.dumps({
    "grammar": str(_resources.data_dir("grammar")),
    "rulesets": str(_resources.data_dir("rulesets")),
    "urgent": report.referrals[0].urgent,
    "ruleset": rs.name,
    "headline": [r.option for r in cramprules.parse_ruleset(
        "if constipation and long_term then prefer citrate unless bedtime"
    ).evaluate(constipation=True, long_term=True, bedtime=False).recommendations],
}))
"""


def run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    return python


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("cramprules-*.whl")
    return built


def test_the_wheel_carries_the_grammar_rulesets_and_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cramprules/_data/grammar/cramprules.lark" in names
    assert "cramprules/_data/rulesets/leg_cramps.cramp" in names
    assert any(n.startswith("cramprules/_data/rulesets/leg_cramps/") for n in names)
    assert "cramprules/schema/report.schema.json" in names
    assert "cramprules/py.typed" in names


def test_an_installed_wheel_works_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = json.loads(run(python, "-c", PROBE, cwd=elsewhere))
    assert result["urgent"] is True
    assert result["ruleset"] == "leg_cramps"
    assert result["headline"] == ["citrate"]
    assert "_data" in result["grammar"]
    assert str(ROOT) not in result["grammar"]
    cli = tmp_path / "venv" / "bin" / "cramprules"
    report = json.loads(run(cli, "eval", "--fact", "prolonged", "--format", "json", cwd=elsewhere))
    assert report["referrals"][0]["urgent"] is True


def test_an_editable_install_reads_the_checkout(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--quiet", "-e", ROOT, cwd=tmp_path)
    result = json.loads(run(python, "-c", PROBE, cwd=tmp_path))
    assert result["grammar"] == str(ROOT / "grammar")
    assert result["rulesets"] == str(ROOT / "rulesets")
    assert result["headline"] == ["citrate"]
