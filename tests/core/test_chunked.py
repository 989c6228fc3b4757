"""Large rulesets compile in chunks: the chunked code decides exactly as the unchunked.

Rulesets of more than ``CHUNK`` rules are generated as many small functions
(so that ``compile()`` stays linear); here small rulesets are compiled with
tiny chunks and compared with the one-function code, state by state and
advice by advice, over generated rulesets and partial facts.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

import cramprules
from cramprules.compiler import compile_program

_here = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("fired_means_sure", _here / "test_fired_means_sure.py")
assert _spec is not None
assert _spec.loader is not None
_fms = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("fired_means_sure", _fms)
_spec.loader.exec_module(_fms)

ENGINE = cramprules.Engine(autoload=False)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _build(source: str, chunk: int) -> tuple[cramprules.Ruleset, object]:
    ruleset = ENGINE.parse_ruleset(source)
    return ruleset, compile_program(ruleset.program, chunk=chunk)


@SETTINGS
@given(text=_fms.rulesets(), facts=_fms.partial_facts, chunk=_fms.st.integers(1, 3))
def test_chunked_deciders_and_decisions_agree_with_one_function(
    text: str, facts: dict[str, bool], chunk: int
) -> None:
    ruleset, chunked = _build(text, chunk)
    assert "def kleene_0" in chunked.source or len(ruleset.rules) <= chunk  # type: ignore[attr-defined]
    values, states = ruleset.compiled.run(facts)
    assert chunked.run(facts) == (values, states)  # type: ignore[attr-defined]
    assert chunked.decide(values) == ruleset.compiled.decide(values)  # type: ignore[attr-defined]
    complete = {name: facts.get(name, True) for name in _fms.FACTS}
    assert chunked.run(complete) == ruleset.compiled.run(complete)  # type: ignore[attr-defined]

    def build(index: int) -> tuple[str, int]:
        return ("conditional", index)

    for name in ("recommendations", "referrals"):
        one = getattr(ruleset.decisions, name)(states, build)
        many = getattr(chunked.decisions, name)(states, build)  # type: ignore[attr-defined]
        assert many == one


def test_a_ruleset_larger_than_a_chunk_is_split_and_still_decides() -> None:
    rules = "\n".join(f"rule r{i}: if n >= {i} then recommend o{i % 7}" for i in range(300))
    options = "\n".join(f"option o{i}" for i in range(7))
    ruleset = ENGINE.parse_ruleset(f"fact n: number\n{options}\n{rules}\n")
    assert "def fast_0" in ruleset.compiled.source
    report = ruleset.evaluate(n=150)
    assert report.states.count(0) == 151
    assert [r.option for r in report.recommendations] == [f"o{i}" for i in range(7)]
    assert ruleset.evaluate({}).states == (2,) * 300
