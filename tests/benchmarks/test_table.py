"""The performance table of docs/performance.md: cramprules beside the floor and its peers.

Run with ``tox -e bench`` (or ``pytest -m bench -s tests/benchmarks/test_table.py``).
Every figure is a median of several rounds, and every speed is a ratio to
the *floor* measured in the same process: a hand-written, straight-line
Python function with one ``if`` per rule returning the ids of the rules that
fire.  Peers (zen-engine, rule-engine, json-logic) are installed from PyPI in
the bench environment; each is given the same rules, translated from the
checked program, and its output is checked against the floor before it is
timed.  Build times and peak memory are measured in fresh processes.
Nothing here asserts a time: the machine is shared and the figures are noisy.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import cramprules
from cramprules import nodes
from cramprules.model import Program
from cramprules.states import State

pytestmark = pytest.mark.bench

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import synthetic
import test_speed

ROUNDS = 5
Record = Mapping[str, Any]


def median_seconds(run: Callable[[], object], count: int, rounds: int = ROUNDS) -> float:
    """Median seconds per item of ``run()``, which handles ``count`` items."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / count)
    return statistics.median(times)


# ---------------------------------------------------------------- translations of the rules


def _effective(program: Program) -> list[tuple[int, nodes.Condition]]:
    """Each rule's condition with causes spelt out and ``unless`` folded in, for engines without either."""
    concluders: dict[str, list[int]] = {}
    for i, rule in enumerate(program.rules):
        for action in rule.actions:
            if action.kind == "suspect":
                concluders.setdefault(action.target, []).append(i)
    done: dict[int, nodes.Condition] = {}

    def expand(node: nodes.Condition) -> nodes.Condition:
        if isinstance(node, nodes.Name) and node.name in program.causes:
            parts = tuple(rule(j) for j in concluders.get(node.name, ()))
            return nodes.Any(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, nodes.Not):
            return nodes.Not(expand(node.operand))
        if isinstance(node, nodes.All):
            return nodes.All(tuple(expand(c) for c in node.operands))
        if isinstance(node, nodes.Any):
            return nodes.Any(tuple(expand(c) for c in node.operands))
        return node

    def rule(i: int) -> nodes.Condition:
        if i not in done:
            spec = program.rules[i]
            if spec.overrides:
                raise ValueError("overrides are not translated")
            condition = expand(spec.condition)
            if spec.unless is not None:
                condition = nodes.All((condition, nodes.Not(expand(spec.unless))))
            done[i] = condition
        return done[i]

    return [(i, rule(i)) for i in range(len(program.rules))]


def _text(node: nodes.Condition | nodes.Operand, style: str) -> str:
    """A condition in Python (``python``, over a dict ``f``), zen or rule-engine syntax."""
    if isinstance(node, nodes.Name):
        return f"f[{node.name!r}]" if style == "python" else node.name
    if isinstance(node, nodes.Number):
        return repr(node.value)
    if isinstance(node, nodes.Not):
        return f"(not {_text(node.operand, style)})"
    if isinstance(node, (nodes.All, nodes.Any)):
        word = " and " if isinstance(node, nodes.All) else " or "
        return "(" + word.join(_text(c, style) for c in node.operands) + ")"
    if isinstance(node, nodes.Compare):
        op = "==" if node.op == "=" else node.op
        return f"({_text(node.left, style)} {op} {_text(node.right, style)})"
    if isinstance(node, nodes.InValues):
        values = "[" + ", ".join(repr(v) for v in node.values) + "]"
        test = f"({_text(node.name, style)} in {values})"
        return f"(not {test})" if node.negated else test
    raise TypeError(f"not translated: {node!r}")


def _logic(node: nodes.Condition | nodes.Operand) -> object:
    """A condition as json-logic."""
    if isinstance(node, nodes.Name):
        return {"var": node.name}
    if isinstance(node, nodes.Number):
        return node.value
    if isinstance(node, nodes.Not):
        return {"!": [_logic(node.operand)]}
    if isinstance(node, (nodes.All, nodes.Any)):
        return {"and" if isinstance(node, nodes.All) else "or": [_logic(c) for c in node.operands]}
    if isinstance(node, nodes.Compare):
        return {"==" if node.op == "=" else node.op: [_logic(node.left), _logic(node.right)]}
    if isinstance(node, nodes.InValues):
        test = {"in": [_logic(node.name), list(node.values)]}
        return {"!": [test]} if node.negated else test
    raise TypeError(f"not translated: {node!r}")


def floor_function(program: Program) -> Callable[[Record], list[int]]:
    """The floor: generated straight-line Python, one ``if`` per rule, returning the ids that fire."""
    lines = ["def fired(f):", "    out = []"]
    for i, condition in _effective(program):
        lines.append(f"    if {_text(condition, 'python')}: out.append({i})")
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from the benchmark's own rules
    return namespace["fired"]  # type: ignore[no-any-return]


def fired_ids(states: Sequence[int]) -> list[int]:
    return [i for i, state in enumerate(states) if state == State.FIRED]


# ---------------------------------------------------------------- peers


def peer_available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def zen_engine(program: Program) -> Callable[[Record], list[int]]:
    import zen

    rules = [
        {"_id": f"r{i}", "c": _text(condition, "zen"), "o": str(i)} for i, condition in _effective(program)
    ]
    content = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": "rules",
                "position": {"x": 0, "y": 0},
                "content": {
                    "hitPolicy": "collect",
                    "inputs": [{"id": "c", "name": "condition", "type": "expression"}],
                    "outputs": [{"id": "o", "field": "id", "name": "id", "type": "expression"}],
                    "rules": rules,
                },
            },
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "a", "sourceId": "in", "targetId": "table", "type": "edge"},
            {"id": "b", "sourceId": "table", "targetId": "out", "type": "edge"},
        ],
    }
    decision = zen.ZenEngine().create_decision(json.dumps(content))

    def fired(record: Record) -> list[int]:
        return sorted(int(hit["id"]) for hit in decision.evaluate(dict(record))["result"])

    return fired


def zen_expressions(program: Program) -> Callable[[Record], list[int]]:
    """zen-engine's compiled expressions, one per rule: its fastest way from Python."""
    import zen

    compiled = [(i, zen.compile_expression(_text(c, "zen"))) for i, c in _effective(program)]

    def fired(record: Record) -> list[int]:
        return [i for i, expression in compiled if expression.evaluate(record)]

    return fired


def rule_engine_rules(program: Program) -> Callable[[Record], list[int]]:
    import rule_engine

    compiled = [(i, rule_engine.Rule(_text(c, "rule-engine"))) for i, c in _effective(program)]

    def fired(record: Record) -> list[int]:
        return [i for i, rule in compiled if rule.matches(record)]

    return fired


def json_logic_rules(program: Program) -> Callable[[Record], list[int]]:
    from json_logic import jsonLogic

    logic = [(i, _logic(c)) for i, c in _effective(program)]

    def fired(record: Record) -> list[int]:
        return [i for i, test in logic if jsonLogic(test, record)]

    return fired


PEERS: list[tuple[str, str, Callable[[Program], Callable[[Record], list[int]]]]] = [
    ("zen-engine, compiled expressions", "zen", zen_expressions),
    ("zen-engine, decision table", "zen", zen_engine),
    ("rule-engine", "rule_engine", rule_engine_rules),
    ("json-logic", "json_logic", json_logic_rules),
]


# ---------------------------------------------------------------- build and start-up in fresh processes

_BUILD = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {here!r})
    import synthetic, cramprules

    def high_water_kb():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    text = synthetic.ruleset_text({count})
    engine = cramprules.Engine(autoload=False, cache={cache!r})
    before = high_water_kb()
    start = time.perf_counter()
    engine.parse_ruleset(text, "synthetic.cramp")
    seconds = time.perf_counter() - start
    print(json.dumps({{"seconds": seconds, "peak_kb": high_water_kb(), "before_kb": before}}))
    """
)


def build_in_process(count: int, cache: str | bool, rounds: int = 1) -> dict[str, float]:
    """Seconds and memory of one build in a fresh process; with ``rounds``, the medians."""
    code = _BUILD.format(here=str(HERE), count=count, cache=cache)
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    runs = []
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def startup_seconds(args: list[str], env: Mapping[str, str], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, env=dict(env), check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------- report costs


def bundled_records(ruleset: cramprules.Ruleset, count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Fact sets for the bundled ruleset, each fact given with probability 0.6."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        record: dict[str, Any] = {}
        for name, spec in ruleset.facts.items():
            if spec.derived or rng.random() < 0.4:
                continue
            if spec.kind == "bool":
                record[name] = rng.random() < 0.3
            elif spec.kind == "number":
                low = spec.low if spec.low is not None else 0
                high = spec.high if spec.high is not None else low + 10
                record[name] = rng.uniform(low, high)
            else:
                record[name] = rng.choice(spec.values)
        out.append(record)
    return out


def first_read(
    ruleset: cramprules.Ruleset, records: list[dict[str, Any]], part: Callable[[cramprules.Report], object]
) -> float:
    """Median seconds to read ``part`` of a fresh report, over fresh reports each round."""
    times = []
    for _ in range(ROUNDS):
        reports = ruleset.evaluate_many(records)
        gc.collect()
        start = time.perf_counter()
        for report in reports:
            part(report)
        times.append((time.perf_counter() - start) / len(reports))
    return statistics.median(times)


def held_bytes(
    ruleset: cramprules.Ruleset,
    records: list[dict[str, Any]],
    count: int,
    part: Callable[[cramprules.Report], object],
) -> float:
    """Bytes each held report keeps, after ``part`` was read, measured with tracemalloc."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    reports = ruleset.evaluate_many(records[i % len(records)] for i in range(count))
    for report in reports:
        part(report)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(reports) == count
    return (after - before) / count


# ---------------------------------------------------------------- the tables


def _row(label: str, seconds: float | None, floor: float, note: str = "") -> str:
    if seconds is None:
        return f"| {label} | | | {note} |"
    return f"| {label} | {seconds * 1e6:,.2f} µs | {seconds / floor:,.2f}x | {note} |"


def test_the_performance_table() -> None:
    engine = cramprules.Engine(autoload=False, cache=False)
    lines = ["", "| workload | per record | vs floor | notes |", "|---|---:|---:|---|"]

    # 14 rules: the leg-cramps workload of tests/benchmarks/test_speed.py.
    small = engine.parse_ruleset(test_speed.RULESET, "bench.cramp")
    records = test_speed.generate(10_000)
    floor = floor_function(small.program)
    for record in records[:2_000]:
        assert floor(record) == fired_ids(small.evaluate(record).states), record
    floor_s = median_seconds(lambda: [floor(r) for r in records], len(records))
    lines.append(_row("14 rules: floor (one `if` per rule)", floor_s, floor_s))
    evaluate = small.evaluate
    decision = median_seconds(lambda: [evaluate(r).states for r in records], len(records))
    lines.append(_row("14 rules: cramprules decision (`evaluate` + `.states`)", decision, floor_s))
    report = median_seconds(lambda: [evaluate(r).recommendations for r in records], len(records))
    lines.append(_row("14 rules: cramprules full report (`evaluate` + `.recommendations`)", report, floor_s))
    many = median_seconds(lambda: [r.states for r in small.evaluate_many(records)], len(records))
    lines.append(_row("14 rules: cramprules `evaluate_many`", many, floor_s))
    resolved = median_seconds(lambda: [test_speed.hand_written(r) for r in records], len(records))
    lines.append(_row("14 rules: hand-written with conflict resolution", resolved, floor_s))
    if peer_available("pyarrow"):
        import numpy as np
        import pyarrow as pa

        rows = 1_000_000
        rng = np.random.default_rng(7)
        columns = {name: pa.array(rng.random(rows) < 0.3) for name in test_speed.BOOL_FACTS}
        columns["pain"] = pa.array(rng.integers(0, 11, rows))
        table = pa.table(columns)
        head = table.slice(0, 2_000).to_pylist()
        out = small.evaluate_table(table.slice(0, 2_000)).to_pylist()
        for record, row in zip(head, out):
            fired = [i for i, rule in enumerate(small.rules) if row[f"rule:{rule.name}"] == "fired"]
            assert fired == floor(record)
        columnar = median_seconds(lambda: small.evaluate_table(table), rows, rounds=3)
        lines.append(_row("14 rules: cramprules `evaluate_table`, 1,000,000 rows", columnar, floor_s))
    for name, module, make in PEERS:
        if not peer_available(module):
            lines.append(_row(f"14 rules: {name}", None, floor_s, "not installed"))
            continue
        peer = make(small.program)
        for record in records[:2_000]:
            assert peer(record) == floor(record), (name, record)
        sample = records[:2_000]
        seconds = median_seconds(lambda peer=peer, sample=sample: [peer(r) for r in sample], len(sample))  # type: ignore[misc]
        lines.append(_row(f"14 rules: {name}", seconds, floor_s))

    # 10,000 rules without causes or overrides, so that every engine computes the same.
    big = engine.parse_ruleset(synthetic.ruleset_text(10_000, chained=False), "synthetic.cramp")
    big_records = synthetic.records(300)
    big_floor = floor_function(big.program)
    for record in big_records[:50]:
        assert big_floor(record) == fired_ids(big.evaluate(record).states)
    floor_big = median_seconds(lambda: [big_floor(r) for r in big_records], len(big_records))
    lines.append(_row("10,000 rules: floor", floor_big, floor_big))
    big_eval = big.evaluate
    decided = median_seconds(lambda: [big_eval(r).states for r in big_records], len(big_records))
    lines.append(_row("10,000 rules: cramprules decision", decided, floor_big))
    builds: list[str] = []
    for name, module, make in PEERS:
        if not peer_available(module):
            continue
        start = time.perf_counter()
        peer = make(big.program)
        builds.append(f"| {name} | 10,000 | {time.perf_counter() - start:.2f} s | | |")
        sample = big_records[:10]
        for record in sample[:3]:
            assert peer(record) == big_floor(record), name
        seconds = median_seconds(
            lambda peer=peer, sample=sample: [peer(r) for r in sample], len(sample), rounds=3
        )  # type: ignore[misc]
        lines.append(_row(f"10,000 rules: {name}", seconds, floor_big))

    # Report costs on the bundled ruleset: the first read of each part, against `.recommendations`.
    bundled = engine.default_ruleset()
    people = bundled_records(bundled, 2_000)
    lines += ["", "| report part, bundled ruleset | per report | vs `.recommendations` |", "|---|---:|---:|"]
    parts: list[tuple[str, Callable[[cramprules.Report], object]]] = [
        ("`.recommendations`", lambda r: r.recommendations),
        ("`.referrals`", lambda r: r.referrals),
        ("`.causes`", lambda r: r.causes),
        ("`.questions`", lambda r: r.questions),
        ("`.trace`", lambda r: r.trace),
        ("`.to_dict()`", lambda r: r.to_dict()),
        ("`.to_json()`", lambda r: r.to_json()),
    ]
    first = None
    for label, part in parts:
        seconds = first_read(bundled, people, part)
        first = first or seconds
        lines.append(f"| {label} | {seconds * 1e6:,.1f} µs | {seconds / first:.1f}x |")
    decided = held_bytes(bundled, people, 100_000, lambda r: r.recommendations)
    serialised = held_bytes(bundled, people, 5_000, lambda r: r.to_json())
    lines.append(f"| 100,000 held reports after `.recommendations` | {decided * 100_000 / 2**20:,.0f} MB | |")
    lines.append(
        f"| 100,000 held reports after `.to_json()` (from 5,000) | {serialised * 100_000 / 2**20:,.0f} MB | |"
    )

    # Building: fresh processes, cold (no cache) and cached (a second process, same cache).
    lines += ["", "| build (cold and cached: median of 3) | rules | seconds | peak RSS | notes |"]
    lines += ["|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for count in (10, 100, 1_000, 10_000):
            cold = build_in_process(count, False, rounds=3)
            stored = build_in_process(count, folder)
            warm = build_in_process(count, folder, rounds=3)
            for label, figures in (("cold", cold), ("cold, writing the cache", stored), ("cached", warm)):
                lines.append(
                    f"| cramprules, {label} | {count:,} | {figures['seconds']:.3f} s | "
                    f"{figures['peak_kb'] / 1024:.0f} MB | {figures['before_kb'] / 1024:.0f} MB before |"
                )
    lines += builds

    # Whole-process start-up.
    lines += ["", "| start-up, whole process | seconds |", "|---|---:|"]
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1", "CRAMPRULES_CACHE_DIR": folder}
        command = ["-m", "cramprules", "eval", "--fact", "pain=9", "--format", "json"]
        lines.append(f"| `python -c pass` | {startup_seconds(['-c', 'pass'], env):.3f} |")
        lines.append(
            f"| `python -c 'import cramprules'` | {startup_seconds(['-c', 'import cramprules'], env):.3f} |"
        )
        off = {**env, "CRAMPRULES_CACHE": "off"}
        lines.append(
            f"| `cramprules eval --fact pain=9 --format json`, no cache | {startup_seconds(command, off):.3f} |"
        )
        subprocess.run([sys.executable, *command], capture_output=True, env=env, check=True)
        lines.append(
            f"| `cramprules eval --fact pain=9 --format json`, cached | {startup_seconds(command, env):.3f} |"
        )
    print("\n".join(lines))
    assert floor_s > 0
