"""Batch at cohort scale: 1,000,000 generated records, 1% of them bad.

Run with ``tox -e bench`` (or ``pytest -m bench -s tests/benchmarks/test_batch_speed.py``);
``CRAMPRULES_BENCH_RECORDS`` sets another size.  Each run is a real
``cramprules batch`` process over the bundled ruleset writing the flat CSV
table and an errors file: one process, two worker processes, and Dask with
two workers on a LocalCluster.  Figures are records/s and the ratio to the
same work done in this process by ``evaluate_many`` (the baseline: no
reading, no writing, no processes), and peak RSS of the batch process at
100,000 and at 1,000,000 records, which must stay flat.  Nothing asserts a
time; the accounting (read = written + errors) and identical output across
engines are asserted.
"""

from __future__ import annotations

import filecmp
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cramprules
from cramprules.batch import table_row

pytestmark = pytest.mark.bench

RECORDS = int(os.environ.get("CRAMPRULES_BENCH_RECORDS", "1000000"))
SMALL = min(100_000, RECORDS)
BAD_EVERY = 100
BASELINE = 20_000

BOOLS = (
    "night_cramps",
    "exercise_cramps",
    "constipation",
    "long_term",
    "bedtime",
    "sensitive_stomach",
    "magnesium_tried",
    "dehydrated",
    "overuse",
    "static_position",
    "diuretics",
    "keto_diet",
    "kidney_disease",
    "persistent",
)
BAD = ('{"pain": 3, "painn": 4}', "{not json", '{"pain": "lots"}', '{"pain": 42}')


def record(rng: random.Random, i: int) -> dict[str, object]:
    facts: dict[str, object] = {"pid": f"p{i:07d}"}
    for name in rng.sample(BOOLS, 4):
        facts[name] = rng.random() < 0.5
    if rng.random() < 0.6:
        facts["pain"] = rng.randint(0, 10)
    return facts


def generate(path: Path, n: int) -> int:
    """``n`` lines, every ``BAD_EVERY``-th one bad; the number of bad lines."""
    rng = random.Random(10)
    bad = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            if i % BAD_EVERY == BAD_EVERY - 1:
                out.write(BAD[bad % len(BAD)] + "\n")
                bad += 1
            else:
                out.write(json.dumps(record(rng, i)) + "\n")
    return bad


# Runs the command and prints its own peak RSS (KiB) last: VmHWM, the high-water
# mark of this process's memory since exec (ru_maxrss would include the memory
# of this test process, which the child shares between fork and exec).
RUNNER = (
    "import resource, sys\n"
    "from cramprules.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "try:\n"
    "    status = open('/proc/self/status').read()\n"
    "    peak = int(status.split('VmHWM:')[1].split()[0])\n"
    "except (OSError, IndexError):\n"
    "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print('maxrss', peak, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def batch(*args: str) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) of the batch process, and its stderr."""
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "batch", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 1, done.stderr  # 1: some records went to the errors file
    rss = int(done.stderr.rsplit("maxrss", 1)[1].split()[0])
    return seconds, rss, done.stderr


def baseline_rate() -> float:
    """Records/s of evaluate_many plus the table row, in this process: no I/O, no processes."""
    ruleset = cramprules.Engine(autoload=False).default_ruleset()
    rng = random.Random(11)
    records = [record(rng, i) for i in range(BASELINE)]
    for r in records:
        r.pop("pid")
    start = time.perf_counter()
    rows = [table_row(report, i, None) for i, report in enumerate(ruleset.evaluate_many(records))]
    seconds = time.perf_counter() - start
    assert len(rows) == BASELINE
    return BASELINE / seconds


def table_rate() -> float:
    """Records/s of ``evaluate_table`` over the same kind of records, in memory, in this process.

    The median of five runs after one to warm up: the first call imports
    NumPy and pyarrow, which would otherwise be most of what is measured."""
    ruleset = cramprules.Engine(autoload=False).default_ruleset()
    rng = random.Random(11)
    records = [record(rng, i) for i in range(BASELINE)]
    columns = {name: [r.get(name) for r in records] for name in ruleset.facts}
    ruleset.evaluate_table({name: column[:10] for name, column in columns.items()})
    times = []
    for _ in range(5):
        start = time.perf_counter()
        table = ruleset.evaluate_table(columns)
        times.append(time.perf_counter() - start)
        assert table.num_rows == BASELINE
    return BASELINE / statistics.median(times)


def test_a_million_records(tmp_path: Path) -> None:
    big = tmp_path / "cohort.jsonl"
    bad = generate(big, RECORDS)
    small = tmp_path / "small.jsonl"
    generate(small, SMALL)
    figures: dict[str, object] = {"records": RECORDS, "bad": bad}
    outputs = {}
    runs = {
        "1 process": [],
        "2 processes": ["--workers", "2"],
        "Dask, 2 workers": ["--engine", "dask", "--workers", "2"],
    }
    for name, extra in runs.items():
        base = baseline_rate()  # just before the run: the shared machine's load changes
        columnar = table_rate()
        out = tmp_path / f"{len(outputs)}.csv"
        errors = tmp_path / f"{len(outputs)}.errors.jsonl"
        seconds, rss, stderr = batch(
            str(big), "-o", str(out), "--errors", str(errors), "--id-field", "pid", *extra
        )
        good = RECORDS - bad
        assert f"{RECORDS} records read: {good} reports written, {bad} errors" in stderr
        assert len(errors.read_text().splitlines()) == bad
        outputs[name] = out
        rate = RECORDS / seconds
        figures[name] = {
            "records/s": round(rate),
            "baseline evaluate_many records/s": round(base),
            "ratio to baseline": round(rate / base, 2),
            "evaluate_table records/s (one process, in memory)": round(columnar),
            "ratio to evaluate_table": round(rate / columnar, 3),
            "seconds": round(seconds, 1),
            "peak RSS MiB (main process)": round(rss / 1024),
        }
        if name == "1 process":
            figures[f"peak RSS MiB at {RECORDS:,}"] = round(rss / 1024)
    for name, path in outputs.items():
        assert filecmp.cmp(path, outputs["1 process"], shallow=False), f"{name} wrote different output"
    for path in outputs.values():
        path.unlink()
    _, small_rss, _ = batch(str(small), "-o", str(tmp_path / "small.csv"), "--id-field", "pid")
    figures[f"peak RSS MiB at {SMALL:,}"] = round(small_rss / 1024)
    _, small_dask_rss, _ = batch(
        str(small), "-o", str(tmp_path / "small2.csv"), "--id-field", "pid", *runs["Dask, 2 workers"]
    )
    figures[f"Dask: peak RSS MiB (main process) at {SMALL:,}"] = round(small_dask_rss / 1024)
    print("\n" + json.dumps(figures, indent=2))
    big_rss = figures[f"peak RSS MiB at {RECORDS:,}"]
    assert isinstance(big_rss, int)
    assert big_rss < small_rss / 1024 * 1.5 + 20, "memory grows with the input"
