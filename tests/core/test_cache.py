"""The compiled-ruleset cache: used when it can be, rebuilt when anything changed,
never trusted when it cannot be checked.

Whether a build came from the cache is seen by counting calls to the checker:
a cached load never parses or checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cramprules
from cramprules import engine as engine_module
from cramprules.cache import Cache

RULESET = """\
ruleset cached "Cached"
fact pain: number 0..10
fact night: bool
option stretching
include "more.cramp"
rule relief: if night then recommend stretching
rule red: if pain >= 8 then refer doctor urgent
"""

MORE = """\
option heat
rule warm: if night and pain >= 3 then recommend heat
"""


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The origins of every ruleset the engine checked (that is, built without the cache)."""
    seen: list[str] = []
    real = engine_module.check

    def counting(main: Any, **kwargs: Any) -> Any:
        seen.append(main.origin)
        return real(main, **kwargs)

    monkeypatch.setattr(engine_module, "check", counting)
    return seen


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "main.cramp").write_text(RULESET)
    (folder / "more.cramp").write_text(MORE)
    return folder / "main.cramp"


def _decision(ruleset: cramprules.Ruleset) -> object:
    report = ruleset.evaluate(pain=9, night=True)
    return (report.states, report.to_dict(), ruleset.evaluate(night=True).to_dict())


def test_a_second_engine_loads_the_ruleset_from_the_cache(
    tmp_path: Path, files: Path, checks: list[str]
) -> None:
    first = cramprules.Engine(autoload=False, cache=tmp_path / "cache").load_ruleset(files)
    second = cramprules.Engine(autoload=False, cache=tmp_path / "cache").load_ruleset(files)
    assert len(checks) == 1
    assert _decision(second) == _decision(first)
    assert second.sha256 == first.sha256
    assert [r.name for r in second.rules] == [r.name for r in first.rules] == ["warm", "relief", "red"]
    assert len(list((tmp_path / "cache").glob("*.crc"))) == 1


def test_a_large_ruleset_in_chunks_comes_back_the_same(tmp_path: Path, checks: list[str]) -> None:
    rules = "\n".join(f"rule r{i}: if n >= {i} and not b then recommend o{i % 5}" for i in range(250))
    text = "fact n: number\nfact b: bool\n" + "\n".join(f"option o{i}" for i in range(5)) + "\n" + rules
    first = cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    second = cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 1
    for facts in ({"n": 100, "b": False}, {"n": 100}, {}):
        assert second.evaluate(facts).to_dict() == first.evaluate(facts).to_dict()


def test_changing_an_included_file_rebuilds(tmp_path: Path, files: Path, checks: list[str]) -> None:
    cramprules.Engine(autoload=False, cache=tmp_path / "cache").load_ruleset(files)
    (files.parent / "more.cramp").write_text(MORE.replace("pain >= 3", "pain >= 1"))
    ruleset = cramprules.Engine(autoload=False, cache=tmp_path / "cache").load_ruleset(files)
    assert len(checks) == 2
    assert "heat" in [r.option for r in ruleset.evaluate(night=True, pain=2).recommendations]


def test_changing_the_main_text_rebuilds(tmp_path: Path, checks: list[str]) -> None:
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    ruleset = cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text.replace("doctor", "nurse"))
    assert len(checks) == 2
    assert ruleset.evaluate(a=True).referrals[0].to == "nurse"


class Extension:
    """A plugin adding one rule to every ruleset it is asked about."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cramprules.hookimpl
    def cramprules_extend(self, ruleset: str) -> list[str]:
        return [self.text]


class Functions:
    def __init__(self, function: Callable[..., object]) -> None:
        self.function = function

    @cramprules.hookimpl
    def cramprules_functions(self) -> dict[str, Callable[..., object]]:
        return {"high": self.function}


BASE = 'ruleset base "Base"\nfact a: bool\nfact n: number\nrule r: if a then refer doctor\n'


def test_a_plugin_changing_what_it_adds_rebuilds(tmp_path: Path, checks: list[str]) -> None:
    def build(text: str) -> cramprules.Ruleset:
        engine = cramprules.Engine([Extension(text)], autoload=False, cache=tmp_path)
        return engine.parse_ruleset(BASE)

    build("rule extra: if a then refer nurse")
    build("rule extra: if a then refer nurse")
    assert len(checks) == 1
    ruleset = build("rule extra: if a then refer dentist")
    assert len(checks) == 2
    assert {r.to for r in ruleset.evaluate(a=True).referrals} == {"doctor", "dentist"}


def test_adding_or_changing_a_plugin_function_rebuilds(tmp_path: Path, checks: list[str]) -> None:
    text = BASE + "rule f: if high(n) then refer nurse\n"

    def above_five(n: float | None) -> bool | None:
        return None if n is None else n > 5

    def above_two(n: float | None) -> bool | None:
        return None if n is None else n > 2

    first = cramprules.Engine([Functions(above_five)], autoload=False, cache=tmp_path).parse_ruleset(text)
    again = cramprules.Engine([Functions(above_five)], autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 1
    other = cramprules.Engine([Functions(above_two)], autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 2
    assert [r.to for r in first.evaluate(a=False, n=3).referrals] == []
    assert [r.to for r in again.evaluate(a=False, n=3).referrals] == []
    assert [r.to for r in other.evaluate(a=False, n=3).referrals] == ["nurse"]
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(BASE)
    assert len(checks) == 3


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-10] + bytes(10), id="zeroed tail"),
        pytest.param(lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:], id="one bit"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"cramprules-cache\n" + bytes(32) + data[49:], id="unsigned"),
    ],
)
def test_a_corrupt_entry_is_rebuilt_not_used(
    tmp_path: Path, checks: list[str], damage: Callable[[bytes], bytes]
) -> None:
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    (entry,) = tmp_path.glob("*.crc")
    entry.write_bytes(damage(entry.read_bytes()))
    ruleset = cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 2
    assert ruleset.evaluate(a=True).referrals[0].to == "doctor"
    # ... and the rebuilt entry replaced the damaged one.
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 2


def test_an_entry_signed_with_another_key_is_foreign(tmp_path: Path, checks: list[str]) -> None:
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    cramprules.Engine(autoload=False, cache=tmp_path / "theirs").parse_ruleset(text)
    cramprules.Engine(autoload=False, cache=tmp_path / "mine").parse_ruleset(text)
    (theirs,) = (tmp_path / "theirs").glob("*.crc")
    (mine,) = (tmp_path / "mine").glob("*.crc")
    assert theirs.name == mine.name
    mine.write_bytes(theirs.read_bytes())
    cramprules.Engine(autoload=False, cache=tmp_path / "mine").parse_ruleset(text)
    assert len(checks) == 3


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_others_can_read_makes_the_cache_untrusted(tmp_path: Path, checks: list[str]) -> None:
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "key").chmod(0o644)
    assert Cache(tmp_path).secret() is None
    cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset(text)
    assert len(checks) == 2


def test_the_cache_can_be_switched_off(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    for _ in range(2):
        engine = cramprules.Engine(autoload=False, cache=False)
        assert engine.disk_cache is None
        engine.parse_ruleset(text)
    monkeypatch.setenv("CRAMPRULES_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CRAMPRULES_CACHE", "off")
    cramprules.Engine(autoload=False).parse_ruleset(text)
    assert len(checks) == 3
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("CRAMPRULES_CACHE")
    engine = cramprules.Engine(autoload=False)
    assert engine.disk_cache is not None
    assert engine.disk_cache.directory == tmp_path


def test_an_unwritable_cache_directory_only_costs_the_build(tmp_path: Path, checks: list[str]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    text = "fact a: bool\nrule r: if a then refer doctor\n"
    ruleset = cramprules.Engine(autoload=False, cache=blocked / "cache").parse_ruleset(text)
    assert ruleset.evaluate(a=True).referrals[0].to == "doctor"
    assert len(checks) == 1


def test_a_ruleset_with_errors_is_not_cached(tmp_path: Path) -> None:
    with pytest.raises(cramprules.RulesetError):
        cramprules.Engine(autoload=False, cache=tmp_path).parse_ruleset("rule r: if then\n")
    assert list(tmp_path.glob("*.crc")) == []


def test_the_cache_keeps_a_bounded_number_of_entries(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    engine = cramprules.Engine(autoload=False, cache=cache)
    for i in range(5):
        engine.parse_ruleset(f"fact a: bool\nrule r: if a then refer doctor{i}\n")
    entries = sorted(tmp_path.glob("*.crc"))
    for age, entry in enumerate(entries):
        os.utime(entry, (1_000 + age, 1_000 + age))
    assert cache.prune(keep=2) == 3
    assert sorted(tmp_path.glob("*.crc")) == entries[-2:]
