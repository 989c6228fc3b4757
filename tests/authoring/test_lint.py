"""``check``'s findings: for every code, a ruleset that triggers it and one that does not."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

import cramprules
from cramprules.authoring.lint import CODES, CheckOptions, analyse, check_ruleset

TODAY = datetime.date(2026, 1, 1)
Load = Callable[..., cramprules.Ruleset]

# code, a ruleset that triggers it, a near miss that does not, options
CASES = [
    ("never-true", "if a and not a then recommend x", "if a and not b then recommend x", {}),
    (
        "never-true",
        "fact pain: number 0..10\nif pain > 8 and pain < 3 then recommend x",
        "fact pain: number 0..10\nif pain > 8 or pain < 3 then recommend x",
        {},
    ),
    (
        "never-true",
        "fact timing: one of night, walking\nif timing is night and timing is walking then recommend x",
        "fact timing: one of night, walking\nif timing is night and timing is not walking then recommend x",
        {},
    ),
    (
        "never-true",
        "fact pain: number 0..10\nif pain > 10 then recommend x",
        "fact pain: number 0..10\nif pain >= 10 then recommend x",
        {},
    ),
    (
        "never-true",
        "if a is unknown and a then recommend x",
        "if a is unknown or a then recommend x",
        {},
    ),
    (
        "unless-never-true",
        "fact pain: number 0..10\nif a then recommend x unless pain > 20",
        "fact pain: number 0..10\nif a then recommend x unless pain > 5",
        {},
    ),
    ("never-fires", "if a then recommend x unless a", "if a then recommend x unless b", {}),
    (
        "never-fires",
        "rule first: if a then recommend x\nrule second: if a then recommend y overrides first",
        "rule first: if a then recommend x\nrule second: if a and b then recommend y overrides first",
        {},
    ),
    (
        "never-fires",
        "rule concluder: if a then suspect c\nrule user: if c and not a then recommend x",
        "rule concluder: if a then suspect c\nrule user: if c and not b then recommend x",
        {},
    ),
    (
        "shadowed-rule",
        "rule weak: if a then prefer x over y\nrule strong priority 5: if a then prefer y over x",
        "rule weak: if a then prefer x over y\nrule strong priority 5: if a and b then prefer y over x",
        {},
    ),
    (
        "redundant-rule",
        "rule one: if a and b then recommend x\nrule two: if b and a then recommend x",
        "rule one: if a and b then recommend x\nrule two: if b or a then recommend x",
        {},
    ),
    (
        "unresolved-conflict",
        "rule likes: if a then prefer x\nrule dislikes: if b then avoid x",
        "rule likes: if a then prefer x\nrule dislikes: if b then avoid x overrides likes",
        {},
    ),
    (
        "unresolved-conflict",
        "rule likes: if a then recommend x\nrule dislikes: if b then avoid x",
        "rule likes: if a then recommend x\nrule dislikes: if not a then avoid x",
        {},
    ),
    (
        "unresolved-conflict",
        "rule likes: if a then prefer x\nrule dislikes: if b then avoid x",
        "rule likes priority 5: if a then prefer x\nrule dislikes: if b then avoid x",
        {},
    ),
    ("unused-fact", "fact lonely: bool\nif a then recommend x", "fact a: bool\nif a then recommend x", {}),
    (
        "unused-option",
        'option spare "Spare"\nif a then recommend x',
        'option x "X"\nif a then recommend x',
        {},
    ),
    ("unused-cause", 'cause c "C"\nif a then recommend x', 'cause c "C"\nif a then suspect c', {}),
    (
        "unused-source",
        'source s "S"\nif a then recommend x',
        'source s "S"\nif a then recommend x cite s',
        {},
    ),
    (
        "referral-without-because",
        "if a then refer doctor",
        'if a then refer doctor because "a doctor should look at it"',
        {},
    ),
    ("missing-citation", "if a then recommend x", 'source s "S"\nif a then recommend x cite s', {}),
    ("missing-citation", "if a then refer doctor", 'source s "S"\nif a then refer doctor cite s', {}),
    (
        "stale-review",
        "if a then recommend x reviewed 2023-12-01",
        "if a then recommend x reviewed 2024-06-01",
        {"today": TODAY, "max_review_age": 730},
    ),
    (
        "stale-review",
        'ruleset r "R"\nreviewed 2020-01-01\nif a then recommend x',
        'ruleset r "R"\nreviewed 2025-01-01\nif a then recommend x',
        {"today": TODAY},
    ),
    (
        "testing-in-production",
        'ruleset r "R"\nstatus production\nif a then recommend x status testing',
        'ruleset r "R"\nstatus testing\nif a then recommend x status testing',
        {},
    ),
    (
        "urgent-hidden",
        'if sitting then suspect compression unless standing\nif compression then refer doctor urgent because "x"',
        'if sitting then suspect compression\nif compression then refer doctor urgent because "x"',
        {},
    ),
    (
        "urgent-hidden",
        (
            "rule pattern: if sitting then suspect compression\n"
            "rule quiet: if standing then recommend walk overrides pattern\n"
            'rule flag: if compression then refer doctor urgent because "x"'
        ),
        (
            "rule pattern: if sitting then suspect compression\n"
            "rule quiet: if standing then recommend walk\n"
            'rule flag: if compression then refer doctor urgent because "x"'
        ),
        {},
    ),
    (
        "urgent-hidden",
        (
            "if a then suspect c1 unless b\nif c1 then suspect c2\n"
            'if c2 or pain_high then refer doctor urgent because "x"'
        ),
        (
            "if a then suspect c1 unless b\nif c1 then suspect c2\n"
            'if not c2 or pain_high then refer doctor urgent because "x"'
        ),
        {},
    ),
    (
        "invariant-failed",
        'if a and b then recommend x\ninvariant "x when b": if b then recommend x',
        'if a and b then recommend x\ninvariant "x when a and b": if a and b then recommend x',
        {},
    ),
    (
        "invariant-unverified",
        'if a and b then recommend x\ninvariant "i": if a then not avoid x',
        'if a and b then recommend x\ninvariant "i": if a then not avoid x',
        {"limit": 2},
    ),
    (
        "analysis-skipped",
        "if a and b and c then recommend x unless d",
        "if a and b and c then recommend x unless d",
        {"limit": 10},
    ),
    ("inferred-fact", "if a then recommend x", "fact a: bool\nif a then recommend x", {"strict": True}),
    ("inferred-option", "if a then recommend x", 'option x "X"\nif a then recommend x', {"strict": True}),
    ("inferred-cause", "if a then suspect c", 'cause c "C"\nif a then suspect c', {"strict": True}),
]


IDS = [f"{case[0]}-{n}" for n, case in enumerate(CASES)]


def _codes(load: Load, text: str, options: dict[str, object]) -> set[str]:
    return {d.code for d in analyse(load(text), CheckOptions(**options)).findings}  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "trigger", "clean", "options"), CASES, ids=IDS)
def test_each_code_is_found_where_it_applies(
    load: Load, code: str, trigger: str, clean: str, options: dict[str, object]
) -> None:
    assert code in _codes(load, trigger, options)


@pytest.mark.parametrize(("code", "trigger", "clean", "options"), CASES, ids=IDS)
def test_each_code_stays_quiet_on_a_near_miss(
    load: Load, code: str, trigger: str, clean: str, options: dict[str, object]
) -> None:
    options = dict(options)
    if code == "invariant-unverified":
        options["limit"] = 1000  # the same ruleset, with room to prove it
    if code == "analysis-skipped":
        options.pop("limit")
    assert code not in _codes(load, clean, options)


def test_every_code_has_a_case_here() -> None:
    assert {c for c, *_ in CASES} | {"plugin-conflict"} == set(CODES)


@pytest.mark.parametrize(("code", "trigger", "clean", "options"), CASES, ids=IDS)
def test_every_finding_says_where_and_how_to_fix_it(
    load: Load, code: str, trigger: str, clean: str, options: dict[str, object]
) -> None:
    findings = analyse(load(trigger), CheckOptions(**options)).findings  # type: ignore[arg-type]
    for finding in findings:
        assert finding.severity in ("error", "warning", "info")
        if finding.code in CODES and not finding.code.startswith("inferred-"):
            assert finding.severity == CODES[finding.code].severity
        if finding.code == "analysis-skipped":
            continue  # about the whole ruleset
        assert finding.origin == "<string>"
        assert finding.line is not None
        assert finding.column is not None
        assert finding.hint, finding.code
        assert f"<string>:{finding.line}:{finding.column}:" in finding.render()


def test_inferred_names_are_not_reported_without_strict(load: Load) -> None:
    codes = _codes(load, "if a then suspect c and recommend x", {})
    assert not codes & {"inferred-fact", "inferred-option", "inferred-cause"}


def test_strict_makes_inferred_names_warnings(load: Load) -> None:
    findings = analyse(load("if a then recommend x"), CheckOptions(strict=True)).findings
    inferred = [d for d in findings if d.code.startswith("inferred-")]
    assert {d.severity for d in inferred} == {"warning"}


def test_a_never_true_condition_names_the_condition(load: Load) -> None:
    rs = load("fact pain: number 0..10\nrule odd: if pain > 8 and pain < 3 then recommend x")
    finding = next(d for d in analyse(rs).findings if d.code == "never-true")
    assert "rule 'odd'" in finding.message
    assert "pain > 8 and pain < 3" in finding.message
    assert finding.column == 14  # the condition, not the rule


def test_shadowed_rule_names_the_winner(load: Load) -> None:
    rs = load("rule weak: if a then prefer x over y\nrule strong priority 5: if a then prefer y over x")
    finding = next(d for d in analyse(rs).findings if d.code == "shadowed-rule")
    assert "rule 'weak'" in finding.message
    assert "'strong'" in finding.message


def test_urgent_hidden_shows_the_chain(load: Load) -> None:
    rs = load(
        "rule sitting_pattern: if sitting then suspect compression unless standing\n"
        'rule flag: if compression then refer doctor urgent because "x"'
    )
    finding = next(d for d in analyse(rs).findings if d.code == "urgent-hidden")
    assert finding.severity == "error"
    assert "'compression'" in finding.message
    assert "'sitting_pattern'" in finding.message
    assert "unless standing" in finding.message


def test_a_failing_invariant_shows_its_counterexample(load: Load) -> None:
    rs = load('if a and b then recommend x\ninvariant "x when b": if b then recommend x')
    finding = next(d for d in analyse(rs).findings if d.code == "invariant-failed")
    assert "b = yes" in finding.message
    assert "recommend x: no" in finding.message
    assert finding.line == 2


def test_a_ruleset_that_does_not_load_gives_the_checker_errors(engine: cramprules.Engine) -> None:
    result = check_ruleset(
        lambda: engine.parse_ruleset("fact pain: number\nif pian > 3 then recommend x"), "t"
    )
    assert not result.loaded
    assert [d.code for d in result.findings] == ["typo-name"]
    assert result.failed(strict=False)


def test_findings_are_in_source_order(load: Load) -> None:
    rs = load("if a then recommend x\nif b then refer doctor\nfact lonely: bool")
    lines = [d.line or 0 for d in analyse(rs).findings]
    assert lines == sorted(lines)


def test_warnings_fail_only_under_strict(load: Load) -> None:
    result = analyse(load("if a then recommend x"))
    assert result.count("warning")
    assert not result.count("error")
    assert not result.failed(strict=False)
    assert result.failed(strict=True)


# ---------------------------------------------------------------- plugins


BASE = 'ruleset clinic "Clinic"\nfact a: bool\nfact b: bool\noption x "X"\n'


class Base:
    @cramprules.hookimpl
    def cramprules_rulesets(self) -> dict[str, str]:
        return {"clinic": BASE}


class Alpha:
    @cramprules.hookimpl
    def cramprules_extend(self, ruleset: str) -> list[str] | None:
        return ["rule alpha_prefers: if a then prefer x"] if ruleset == "clinic" else None


class Beta:
    def __init__(self, overrides: bool = False, priority: int = 0) -> None:
        self.overrides = overrides
        self.priority = priority

    @cramprules.hookimpl
    def cramprules_extend(self, ruleset: str) -> list[str] | None:
        extra = " overrides alpha_prefers" if self.overrides else ""
        return [f"rule beta_avoids priority {self.priority}: if b then avoid x{extra}"]


def test_plugins_that_contradict_each_other_are_both_named() -> None:
    engine = cramprules.Engine(plugins=[Base(), Alpha(), Beta()], autoload=False)
    findings = analyse(engine.ruleset("clinic")).findings
    conflict = [d for d in findings if d.code == "plugin-conflict"]
    assert len(conflict) == 1
    assert "plugin 'Alpha'" in conflict[0].message
    assert "plugin 'Beta'" in conflict[0].message
    assert not any(d.code == "unresolved-conflict" for d in findings)


def test_a_priority_does_not_settle_a_contradiction_between_plugins() -> None:
    engine = cramprules.Engine(plugins=[Base(), Alpha(), Beta(priority=5)], autoload=False)
    assert any(d.code == "plugin-conflict" for d in analyse(engine.ruleset("clinic")).findings)


def test_plugins_that_settle_it_with_overrides_are_quiet() -> None:
    engine = cramprules.Engine(plugins=[Base(), Alpha(), Beta(overrides=True)], autoload=False)
    assert not any(d.code == "plugin-conflict" for d in analyse(engine.ruleset("clinic")).findings)


def test_findings_of_the_extended_ruleset_are_left_to_it(tmp_path: object) -> None:
    from pathlib import Path

    from cramprules.authoring.lint import check_target

    engine = cramprules.Engine(plugins=[Base()], autoload=False)
    child = Path(str(tmp_path)) / "child.cramp"
    child.write_text(
        'extends clinic\nsource s "S"\nrule mine: if a then recommend x cite s\nfact extra: bool\n'
    )
    result = check_target(engine, str(child))
    codes = [d.code for d in result.findings]
    assert codes == ["unused-fact"]  # the child's own; the base's unused 'b' is hidden
    assert result.hidden >= 1
