"""Every engine gives the bytes serial ``evaluate`` gives: one process, worker processes, Dask.

The Dask tests run on a real ``LocalCluster`` of two worker processes,
started once for this module; the ruleset reaches the workers pickled (its
texts and plugin names), including with a plugin (cramprules-labs) loaded.
"""

from __future__ import annotations

import functools
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cramprules_labs
import pytest

from cramprules import Engine, FactError, batch
from cramprules.batch import TABLE_COLUMNS

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

LAB_RECORDS = [
    {"serum_magnesium": "0.6 mmol/L", "night_cramps": True},
    {"serum_potassium": 3.1, "diuretics": True, "pid": "k"},
    {"serum_calcium": 9.5, "prolonged": True},
    {"serum_magnesium": "lots"},
    {"constipation": True, "long_term": True},
    {"serum_potassium": 2.2},
    {"painn": 2},
    {},
]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each: what the issue asks a test to start."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, client


@pytest.fixture(scope="module")
def labs_ruleset():
    return Engine(plugins=[cramprules_labs], autoload=False).default_ruleset()


def serial_lines(ruleset, rows) -> str:
    """Serial ``evaluate``, one record at a time: the reference."""
    out = []
    for row in rows:
        try:
            out.append(json.dumps(ruleset.evaluate(row).to_dict(), ensure_ascii=False) + "\n")
        except FactError:
            continue  # a bad record has no report
    return "".join(out)


def run_with(engine_factory, ruleset, rows, tmp_path: Path, format: str = "jsonl") -> tuple[str, list[dict]]:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = io.StringIO()
    bad: list = []
    engine = Engine(autoload=False)
    records = lambda: batch.read_records(str(source), "jsonl", engine=engine, id_field="pid")
    summary = batch.run(
        [batch.Input(str(source), records, None)],
        engine_factory(ruleset),
        format=format,
        id_field=None,
        errors=bad.extend,
        errors_file=None,
        work=None,
        manifest={},
        resume=False,
        chunk_size=2,
        part_size=4,
        stdout=out,
    )
    assert summary.read == summary.written + summary.errors == len(rows)
    return out.getvalue(), [b.to_dict() for b in bad]


def test_every_engine_gives_the_bytes_of_serial_evaluate_with_a_plugin(cluster, labs_ruleset, tmp_path):
    _, client = cluster
    rows_without_ids = [{k: v for k, v in r.items() if k != "pid"} for r in LAB_RECORDS]
    expected = serial_lines(labs_ruleset, rows_without_ids)
    engines = {
        "serial": batch.Serial,
        "processes": lambda rs: batch.Processes(rs, 2),
        "dask": lambda rs: batch.DaskEngine(client, rs),
    }
    results = {
        name: run_with(factory, labs_ruleset, LAB_RECORDS, tmp_path) for name, factory in engines.items()
    }
    for name, (text, bad) in results.items():
        assert text == expected, name
        assert [(b["line"], b["error"].split(" ")[0]) for b in bad] == [
            (4, "serum_magnesium"),
            (7, "unknown"),
        ], name
    assert json.loads(expected.splitlines()[0])["causes"], "the plugin's derived facts ran on the workers"


def test_the_table_is_the_same_on_every_engine(cluster, labs_ruleset, tmp_path):
    _, client = cluster
    serial, _ = run_with(batch.Serial, labs_ruleset, LAB_RECORDS, tmp_path, "csv")
    dask, _ = run_with(lambda rs: batch.DaskEngine(client, rs), labs_ruleset, LAB_RECORDS, tmp_path, "csv")
    assert dask == serial
    assert serial.splitlines()[0] == ",".join(TABLE_COLUMNS)


def test_the_command_on_an_existing_cluster(cluster, run, tmp_path):
    local_cluster, _ = cluster
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps(r) + "\n" for r in [{"pain": 9}, {"painn": 1}, {}, {"bedtime": True}])
    )
    alone = run("batch", str(source))
    on_dask = run("batch", str(source), "--scheduler", local_cluster.scheduler_address, "--chunk-size", "1")
    assert on_dask.exit_code == alone.exit_code == 1
    assert on_dask.stdout == alone.stdout
    assert "Dask dashboard: http" in on_dask.stderr
    assert on_dask.stderr.splitlines()[1:] == alone.stderr.splitlines()


@pytest.mark.slow  # waits for the connection to time out
def test_an_unreachable_scheduler_is_one_clear_error(run, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("{}\n")
    result = run("batch", str(source), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


# ---------------------------------------------------------------- files read and written on the workers


def _cohort(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The same 600 records in JSON Lines, CSV and Parquet: some bad, some without a pid."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for i in range(600):
        row: dict[str, object] = {"pid": f"p{i}", "serum_potassium": 2.5 + (i % 20) / 10}
        if i % 3:
            row["night_cramps"] = i % 2 == 0
        if i % 41 == 5:
            row["serum_potassium"] = 99  # out of range
        rows.append(row)
    jsonl = tmp_path / "cohort.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines[17] = "{not json"
    lines[300] = ""
    jsonl.write_text("\n".join(lines) + "\n")
    table = tmp_path / "cohort.csv"
    table.write_text(
        "pid,serum_potassium,night_cramps\n"
        + "".join(
            f"{r['pid']},{r['serum_potassium']},{str(r.get('night_cramps', '')).lower()}\n" for r in rows
        )
        + "p600,1,2,3\n"
    )
    parquet = tmp_path / "cohort.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=64)
    return jsonl, table, parquet


def _run_file(engine, source: Path, out: Path, format: str) -> tuple[bytes, str, object]:
    """A run to a file whose records, when the engine splits the file, are never read here."""
    kind = source.suffix.lstrip(".")
    reader = Engine(autoload=False)

    def records():
        if isinstance(engine, batch.DaskEngine):
            pytest.fail("the Dask engine read the file on the driver")
        return batch.read_records(str(source), kind, engine=reader, id_field="pid")

    split = functools.partial(batch.split, str(source), kind, id_field="pid", limit=1 << 20, min_bytes=1)
    errors = out.with_suffix(".errors.jsonl")
    summary = batch.run(
        [batch.Input(str(source), records, out, split)],
        engine,
        format=format,
        id_field="pid",
        errors=lambda bad: pytest.fail(f"errors go to the file: {bad}"),
        errors_file=errors,
        work=out.parent / f".{out.name}.parts",
        manifest={},
        resume=False,
        chunk_size=16,
        part_size=100,
    )
    assert summary.read == summary.written + summary.errors
    return out.read_bytes(), errors.read_text(), summary


@pytest.mark.parametrize("format", ["jsonl", "csv", "parquet"])
def test_dask_workers_read_and_write_their_own_blocks_of_the_file(cluster, labs_ruleset, tmp_path, format):
    _, client = cluster
    for source in _cohort(tmp_path):
        serial = _run_file(batch.Serial(labs_ruleset), source, tmp_path / f"serial.{format}", format)
        dask = _run_file(batch.DaskEngine(client, labs_ruleset), source, tmp_path / f"dask.{format}", format)
        assert dask == serial, source.name
        assert serial[2].errors >= 15, "bad records land in the errors file"
        assert not list(tmp_path.glob(".*.parts")), "the work directory is gone"


def test_a_killed_dask_run_leaves_no_output_and_resume_finishes_it(cluster, tmp_path):
    """The driver killed mid-way (SIGKILL), then resumed on the same cluster: serial evaluate's bytes."""
    local_cluster, _ = cluster
    rows = [{"pid": f"p{i}", "pain": i % 11, "night_cramps": i % 2 == 0} for i in range(6000)]
    rows[4321] = {"painn": 1}
    source = tmp_path / "cohort.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    errors = tmp_path / "errors.jsonl"
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [
        sys.executable, "-m", "cramprules", "batch", str(source),
        "-o", str(out), "--errors", str(errors), "--id-field", "pid", "--part-size", "60",
        "--chunk-size", "20", "--scheduler", local_cluster.scheduler_address,
    ]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        work = tmp_path / ".out.jsonl.parts"
        deadline = time.monotonic() + 120
        while len(list(work.glob("*.done"))) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert process.poll() is None, f"the run ended before it could be killed: {log.read_text()}"
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not out.exists()
    assert not errors.exists()
    assert (work / "input00000-blocks.json").exists()

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, check=False)
    assert resumed.returncode == 1, resumed.stderr
    assert "6000 records read: 5999 reports written, 1 errors" in resumed.stderr
    done = int(resumed.stderr.split(" parts from the interrupted run")[0].rsplit("(", 1)[1])
    assert 3 <= done < 100
    assert not work.exists()
    ruleset = Engine(autoload=False).default_ruleset()
    expected = "".join(
        json.dumps(
            {"id": r["pid"], **ruleset.evaluate({k: v for k, v in r.items() if k != "pid"}).to_dict()},
            ensure_ascii=False,
        )
        + "\n"
        for i, r in enumerate(rows)
        if i != 4321
    )
    assert out.read_text() == expected
    [bad] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert (bad["line"], bad["record"]) == (4322, 4321)


# ---------------------------------------------------------------- dataframes


def test_evaluate_dataframe_on_pandas(labs_ruleset):
    frame = pd.DataFrame(LAB_RECORDS)
    table = batch.evaluate_dataframe(frame, labs_ruleset, id_field="pid")
    assert list(table.columns) == [*TABLE_COLUMNS, "error"]
    assert table["record"].tolist() == list(range(len(LAB_RECORDS)))
    assert table.loc[1, "id"] == "k"
    assert table["error"].notna().tolist() == [False, False, False, True, False, False, True, False]
    assert table.loc[2, "urgent"]
    good = labs_ruleset.evaluate({"serum_potassium": 2.2})
    assert table.loc[5, "causes"] == "; ".join(c.name for c in good.causes)


def test_evaluate_dataframe_on_dask_is_the_same_as_on_pandas(cluster, labs_ruleset):
    frame = pd.DataFrame(LAB_RECORDS)
    expected = batch.evaluate_dataframe(frame, labs_ruleset, id_field="pid")
    lazy = batch.evaluate_dataframe(dd.from_pandas(frame, npartitions=3), labs_ruleset, id_field="pid")
    got = lazy.compute()
    pd.testing.assert_frame_equal(got, expected)


def test_full_reports_in_a_dataframe(labs_ruleset):
    frame = pd.DataFrame([{"pain": 9}, {"pain": None}])
    table = batch.evaluate_dataframe(frame, labs_ruleset, shape="jsonl")
    assert list(table.columns) == ["record", "id", "report", "error"]
    # a number column with a gap is float in pandas: the facts are what the frame holds
    assert json.loads(table.loc[0, "report"]) == labs_ruleset.evaluate({"pain": 9.0}).to_dict()
    assert json.loads(table.loc[1, "report"]) == labs_ruleset.evaluate({}).to_dict()


def test_a_local_run_is_not_resumed_on_dask(cluster, run, tmp_path):
    """Parts of a local run are records, a Dask run's are blocks of the file: they do not mix."""
    local_cluster, _ = cluster
    source = tmp_path / "in.jsonl"
    source.write_text('{"pain": 1}\n')
    out = tmp_path / "out.jsonl"
    work = tmp_path / ".out.jsonl.parts"
    work.mkdir()
    from cramprules.cli.batch import _identity

    manifest = {
        "ruleset": Engine(autoload=False).default_ruleset().sha256, "inputs": [_identity(str(source))],
        "format": "jsonl", "id_field": None, "part_size": 100000, "chunk_size": 1000, "engine": "local",
    }  # fmt: skip
    (work / "manifest.json").write_text(json.dumps(manifest))
    result = run(
        "batch", str(source), "-o", str(out), "--resume", "--scheduler", local_cluster.scheduler_address
    )
    assert result.exit_code == 2
    assert "differs in engine;" in result.stderr


def test_relative_paths_reach_workers_in_another_directory(cluster, run, tmp_path, monkeypatch):
    """The workers run where the cluster started, not here: they get absolute paths; the errors keep the name given."""
    local_cluster, _ = cluster
    monkeypatch.chdir(tmp_path)
    Path("in.jsonl").write_text('{"pain": 9, "pid": "a"}\n{"painn": 1}\n{"pid": "c"}\n')
    local = run("batch", "in.jsonl", "-o", "local.csv", "--errors", "local.errors.jsonl", "--id-field", "pid")
    dask = run(
        "batch", "in.jsonl", "-o", "dask.csv", "--errors", "dask.errors.jsonl", "--id-field", "pid",
        "--scheduler", local_cluster.scheduler_address,
    )  # fmt: skip
    assert dask.exit_code == local.exit_code == 1
    assert Path("dask.csv").read_bytes() == Path("local.csv").read_bytes()
    assert Path("dask.errors.jsonl").read_text() == Path("local.errors.jsonl").read_text()
    assert json.loads(Path("dask.errors.jsonl").read_text())["source"] == "in.jsonl"
