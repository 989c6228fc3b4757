"""Every engine gives the bytes serial ``evaluate`` gives: one process, worker processes, Dask.

The Dask tests run on a real ``LocalCluster`` of two worker processes,
started once for this module; the ruleset reaches the workers pickled (its
texts and plugin names), including with a plugin (cramprules-labs) loaded.
"""

from __future__ import annotations

import io
import json
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
