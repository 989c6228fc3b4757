"""``cramprules batch``: many records, streamed, in order, with nothing lost."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import cramprules
from cramprules.batch import TABLE_COLUMNS

RECORDS = [
    {"pain": 9},
    {"constipation": True, "long_term": True},
    {"timing": "night"},
    {"diuretics": "yes", "kidney_disease": "no"},
    {},
    {"pain": "2", "bedtime": "no"},
]


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(RECORDS))
    return path


@pytest.fixture
def serial(app, mini):
    """What serial ``evaluate`` gives, one record at a time, as JSON Lines."""
    ruleset = app.engine.load_ruleset(str(mini))

    def expected(rows) -> str:
        return "".join(json.dumps(ruleset.evaluate(r).to_dict(), ensure_ascii=False) + "\n" for r in rows)

    return expected


def summary(read: int, written: int, errors: int) -> str:
    return f"{read} records read: {written} reports written, {errors} errors"


def test_jsonl_is_serial_evaluate_in_order(run, mini, records, serial):
    result = run("batch", str(mini), str(records))
    assert result.exit_code == 0, result.output
    assert result.stdout == serial(RECORDS)
    assert result.stderr == summary(6, 6, 0) + "\n"


def test_json_list(run, mini, records):
    result = run("batch", str(mini), str(records), "--format", "json")
    expected = [json.loads(line) for line in run("batch", str(mini), str(records)).stdout.splitlines()]
    assert result.stdout == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_the_flat_table(run, app, mini, records):
    result = run("batch", str(mini), str(records), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == TABLE_COLUMNS
    assert [r["record"] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert (rows[0]["urgent"], rows[0]["referral_tier"], rows[0]["referral_to"]) == (
        "true",
        "urgent",
        "doctor",
    )
    assert (rows[1]["urgent"], rows[1]["referral_tier"]) == ("false", "none")
    assert (rows[1]["top_recommendation"], rows[1]["top_status"]) == ("prefer citrate", "conditional")
    ruleset = app.engine.load_ruleset(str(mini))
    assert rows[1]["questions"] == "; ".join(q.fact for q in ruleset.evaluate(RECORDS[1]).questions)
    assert "bedtime" in rows[1]["questions"].split("; ")
    assert rows[3]["causes"] == "electrolyte_loss"
    assert rows[3]["top_recommendation"] == "recommend potassium"


def test_parquet_holds_the_same_table(run, mini, records, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "out.parquet"
    assert run("batch", str(mini), str(records), "-o", str(out)).exit_code == 0
    frame = pd.read_parquet(out)
    table = pd.read_csv(io.StringIO(run("batch", str(mini), str(records), "-f", "csv").stdout), dtype=str)
    assert list(frame.columns) == list(TABLE_COLUMNS)
    assert frame["urgent"].tolist() == [True, False, False, False, False, False]
    assert frame["record"].tolist() == list(range(6))
    assert frame["top_recommendation"].tolist() == table["top_recommendation"].fillna("").tolist()


def test_parquet_input_is_read_in_row_groups(run, mini, tmp_path, serial):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"pain": 9, "timing": None}, {"pain": None, "timing": "night"}, {"pain": 11, "timing": None}]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=1)
    errors = tmp_path / "errors.jsonl"
    result = run("batch", str(mini), str(path), "--errors", str(errors), "--chunk-size", "1")
    assert result.exit_code == 1
    assert result.stdout == serial(rows[:2])
    [bad] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert (bad["row"], bad["record"]) == (3, 2)
    assert bad["error"].startswith("pain = 11 is out of range")


def test_empty_input(run, mini, tmp_path):
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    assert run("batch", str(mini), str(empty), "-f", "json").stdout == "[]\n"
    result = run("batch", str(mini), str(empty))
    assert (result.stdout, result.exit_code) == ("", 0)
    assert summary(0, 0, 0) in result.stderr


def test_stdin_json_lines_and_json_lists(run, serial, mini):
    rows = [{"pain": 9}, {}]
    assert run("batch", str(mini), "-", input=jsonl(rows)).stdout == serial(rows)
    assert run("batch", str(mini), "-", input=json.dumps(rows)).stdout == serial(rows)


def test_stdin_with_the_default_ruleset(run):
    result = run("batch", "-", input='{"prolonged": true}\n{}\n')
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ruleset"]["name"] for r in lines] == ["leg_cramps", "leg_cramps"]
    assert lines[0]["referrals"][0]["urgent"] is True


def test_csv_input(run, mini, tmp_path):
    path = tmp_path / "records.txt"
    path.write_text("id,pain,timing\na,9,night\nb,1,walking\nc,2,3,4\nd,,\n")
    errors = tmp_path / "errors.jsonl"
    result = run(
        "batch", str(mini), str(path), "--input-format", "csv", "-f", "csv",
        "--id-field", "id", "--errors", str(errors),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["id"], r["urgent"]) for r in rows] == [("a", "true"), ("b", "false"), ("d", "false")]
    [bad] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert bad == {
        "source": str(path),
        "record": 2,
        "line": 4,
        "id": None,
        "error": "4 cells, but the header names only 3 facts",
    }


def test_too_many_arguments(run, mini, records):
    result = run("batch", str(mini), str(records), "extra")
    assert result.exit_code == 2
    assert "expected [RULESET] INPUT" in result.stderr


# ---------------------------------------------------------------- nothing lost


BAD_LINES = (
    '{"pain": 1, "pid": "a"}\n'
    '{"painn": 3, "pid": "b"}\n'
    "{not json\n"
    "\n"
    '{"pain": "lots", "pid": "c"}\n'
    '["pain"]\n'
    '{"pain": 2, "pid": "d"}\n'
)


@pytest.fixture
def bad_records(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(BAD_LINES)
    return path


def test_bad_records_go_to_the_errors_file_and_the_rest_go_on(run, mini, bad_records, tmp_path, serial):
    errors = tmp_path / "errors.jsonl"
    out = tmp_path / "out.jsonl"
    result = run(
        "batch", str(mini), str(bad_records), "-o", str(out), "--errors", str(errors), "--id-field", "pid"
    )
    assert result.exit_code == 1
    assert result.stderr == summary(6, 2, 4) + f" (see {errors})\n"
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["a", "d"]
    found = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(e["line"], e["record"], e["id"]) for e in found] == [
        (2, 1, "b"),
        (3, 2, None),
        (5, 3, "c"),
        (6, 4, None),
    ]
    assert found[0]["error"] == "unknown fact 'painn'; did you mean 'pain'?"
    assert found[1]["error"].startswith("not valid JSON")
    assert found[2]["error"].startswith("pain = 'lots' is not valid")
    assert found[3]["error"] == "a record is an object of facts, not a list"
    assert {e["source"] for e in found} == {str(bad_records)}


def test_without_an_errors_file_bad_records_go_to_stderr(run, mini, bad_records):
    result = run("batch", str(mini), str(bad_records), "-f", "csv", "--id-field", "pid")
    assert result.exit_code == 1
    assert [r["record"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["0", "5"]
    lines = result.stderr.splitlines()
    assert lines[0] == f"{bad_records}: line 2 (id b): unknown fact 'painn'; did you mean 'pain'?"
    assert lines[1].startswith(f"{bad_records}: line 3: not valid JSON")
    assert lines[-1] == summary(6, 2, 4)


@pytest.mark.parametrize("chunk", ["1", "2", "100"])
def test_bad_records_are_found_in_any_chunk(run, mini, bad_records, chunk, tmp_path):
    errors = tmp_path / "e.jsonl"
    result = run(
        "batch", str(mini), str(bad_records), "-f", "csv", "--chunk-size", chunk,
        "--errors", str(errors), "--id-field", "pid",
    )  # fmt: skip
    assert [r["record"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["0", "5"]
    assert [json.loads(x)["line"] for x in errors.read_text().splitlines()] == [2, 3, 5, 6]


def test_an_unreadable_input_is_one_clear_error(run, mini, tmp_path):
    missing = tmp_path / "missing.jsonl"
    result = run("batch", str(mini), str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: cannot read the records: No such file or directory\n"


def test_an_input_that_cannot_be_read_leaves_nothing_behind(run, mini, tmp_path):
    header = tmp_path / "twice.csv"
    header.write_text("pain,pain\n1,2\n")
    result = run("batch", str(mini), str(header), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {header}: line 1: the CSV header must name every column once\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice.csv"], "no output, no work directory"


def test_id_field_leads_each_full_report(run, mini, tmp_path, serial):
    path = tmp_path / "r.jsonl"
    path.write_text(jsonl([{"pid": 7, "pain": 9}, {"pid": "x"}]))
    lines = run("batch", str(mini), str(path), "--id-field", "pid").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["7", "x"]
    expected = serial([{"pain": 9}, {}]).splitlines()
    assert [json.dumps({k: v for k, v in json.loads(line).items() if k != "id"}) for line in lines] == [
        json.dumps(json.loads(line)) for line in expected
    ]


# ---------------------------------------------------------------- files, directories, resume


def test_output_is_moved_into_place_whole(run, mini, records, tmp_path):
    out = tmp_path / "out" / "reports.jsonl"
    result = run("batch", str(mini), str(records), "-o", str(out), "--part-size", "2", "--chunk-size", "1")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(out.read_text().splitlines()) == len(RECORDS)
    assert sorted(p.name for p in out.parent.iterdir()) == ["reports.jsonl"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file, not mkstemp's 0600


def test_output_shape_follows_the_suffix(run, mini, records, tmp_path):
    out = tmp_path / "table.csv"
    run("batch", str(mini), str(records), "-o", str(out))
    assert out.read_text().startswith(",".join(TABLE_COLUMNS) + "\n")


def test_a_directory_of_inputs_gives_a_directory_of_outputs(run, mini, tmp_path, serial):
    inputs = tmp_path / "cohort"
    inputs.mkdir()
    (inputs / "a.jsonl").write_text(jsonl(RECORDS[:2]))
    (inputs / "b.jsonl").write_text(jsonl(RECORDS[2:]))
    out = tmp_path / "out"
    result = run("batch", str(mini), str(inputs), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.jsonl"]
    assert (out / "a.jsonl").read_text() == serial(RECORDS[:2])
    assert (out / "b.jsonl").read_text() == serial(RECORDS[2:])
    assert summary(6, 6, 0) in result.stderr
    globbed = run("batch", str(mini), str(inputs / "*.jsonl"), "-o", str(tmp_path / "g"), "-f", "csv")
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["a.csv", "b.csv"]
    assert run("batch", str(mini), str(inputs)).exit_code == 2  # many inputs need --output DIR
    assert globbed.exit_code == 0


def test_resume_needs_an_interrupted_run(run, mini, records, tmp_path):
    result = run("batch", str(mini), str(records), "-o", str(tmp_path / "o.jsonl"), "--resume")
    assert result.exit_code == 2
    assert "nothing to resume" in result.stderr
    assert "needs --output" in run("batch", str(mini), str(records), "--resume").stderr


def test_resume_refuses_other_options(run, mini, records, tmp_path):
    work = tmp_path / ".o.jsonl.parts"
    work.mkdir()
    (work / "manifest.json").write_text('{"format": "csv"}')
    result = run("batch", str(mini), str(records), "-o", str(tmp_path / "o.jsonl"), "--resume")
    assert result.exit_code == 2
    assert "cannot resume" in result.stderr
    assert "format" in result.stderr


def test_a_killed_run_leaves_no_output_and_resume_finishes_it(tmp_path, mini, serial):
    """Killed mid-way (SIGKILL: nothing to clean up), then resumed: serial evaluate's bytes."""
    rows = [{"pain": i % 11, "constipation": i % 3 == 0, "long_term": i % 2 == 0} for i in range(4000)]
    rows[2345] = {"painn": 1}
    source = tmp_path / "cohort.jsonl"
    source.write_text(jsonl(rows))
    out = tmp_path / "out.jsonl"
    errors = tmp_path / "errors.jsonl"
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [
        sys.executable, "-m", "cramprules", "batch", str(mini), str(source),
        "-o", str(out), "--errors", str(errors), "--part-size", "50", "--chunk-size", "25",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = tmp_path / ".out.jsonl.parts"
    deadline = time.monotonic() + 60
    while len(list(work.glob("*.done"))) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before it could be killed; give it more records"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists()
    assert not errors.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.jsonl.parts", "cohort.jsonl"]
    done = len(list(work.glob("*.done")))
    assert 3 <= done < 80

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, check=False)
    assert resumed.returncode == 1, resumed.stderr
    assert summary(4000, 3999, 1) in resumed.stderr
    assert f"({done} parts from the interrupted run)" in resumed.stderr
    assert not work.exists()
    assert out.read_text() == serial(rows[:2345] + rows[2346:])
    [bad] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert (bad["line"], bad["record"]) == (2346, 2345)


# ---------------------------------------------------------------- engines


def test_worker_processes_give_the_same_bytes(run, mini, records, bad_records, tmp_path):
    for source in (records, bad_records):
        alone = run("batch", str(mini), str(source), "--id-field", "pid")
        pooled = run(
            "batch", str(mini), str(source), "--id-field", "pid", "--workers", "2", "--chunk-size", "2"
        )
        assert pooled.exit_code == alone.exit_code
        assert pooled.stdout == alone.stdout
        assert pooled.stderr == alone.stderr


def test_dask_missing_is_a_clear_error(run, mini, records, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith(("dask", "distributed.")):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    result = run("batch", str(mini), str(records), "--engine", "dask")
    assert result.exit_code == 2
    assert "pip install 'cramprules[dask]'" in result.stderr


def test_a_failure_that_is_not_about_a_record_stops_the_run(run, mini, records, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("worker broke")

    monkeypatch.setattr("cramprules.batch._evaluate.table_row", broken)
    out = tmp_path / "o.csv"
    with pytest.raises(RuntimeError, match="worker broke"):
        run("batch", str(mini), str(records), "-o", str(out))
    assert not out.exists()


# ---------------------------------------------------------------- progress


def test_progress_on_a_terminal_only(run, mini, records, monkeypatch):
    quiet = run("batch", str(mini), str(records))
    assert "records/s" not in quiet.stderr
    monkeypatch.setattr("cramprules.cli.batch.is_terminal", lambda stream: True)
    shown = run("batch", str(mini), str(records))
    assert "6 records, " in shown.stderr
    assert " records/s, 0 errors" in shown.stderr
    assert shown.stdout == quiet.stdout


def test_workers_zero_means_one_per_cpu(run, mini, records, monkeypatch):
    monkeypatch.setattr("cramprules.cli.batch.os.cpu_count", lambda: 2)
    seen = {}

    class Spy:
        def __init__(self, ruleset, workers):
            seen["workers"] = workers
            self.inner = cramprules.batch.Serial(ruleset)

        def map(self, *args):
            return self.inner.map(*args)

    monkeypatch.setattr("cramprules.batch.Processes", Spy)
    result = run("batch", str(mini), str(records), "--workers", "0")
    assert result.exit_code == 0
    assert seen == {"workers": 2}


def test_include_testing(run, tmp_path):
    ruleset = tmp_path / "t.cramp"
    ruleset.write_text("rule trial:\n    if a\n    then recommend rest\n    status testing\n")
    records = tmp_path / "r.jsonl"
    records.write_text('{"a": true}\n')
    without = json.loads(run("batch", str(ruleset), str(records)).stdout)
    with_testing = json.loads(run("batch", str(ruleset), str(records), "--include-testing").stdout)
    assert without["recommendations"] == []
    assert with_testing["recommendations"][0]["option"] == "rest"


def test_two_inputs_may_not_share_an_output(run, mini, tmp_path):
    inputs = tmp_path / "cohort"
    inputs.mkdir()
    (inputs / "a.jsonl").write_text("{}\n")
    (inputs / "a.csv").write_text("pain\n3\n")
    result = run("batch", str(mini), str(inputs), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "two inputs would both be written to" in result.stderr


def test_a_json_list_written_to_a_file_is_the_one_printed(run, mini, records, tmp_path):
    out = tmp_path / "reports.json"
    assert (
        run(
            "batch", str(mini), str(records), "-o", str(out), "--part-size", "2", "--chunk-size", "1"
        ).exit_code
        == 0
    )
    assert out.read_text() == run("batch", str(mini), str(records), "-f", "json").stdout


def test_bad_lines_on_stdin_are_named_by_line(run, mini):
    result = run("batch", str(mini), "-", input='{"pain": 1}\n{"pain": 99}\n')
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("stdin: line 2: pain = 99 is out of range")


def test_resume_refuses_an_input_that_changed(run, mini, records, tmp_path):
    out = tmp_path / "o.jsonl"
    assert run("batch", str(mini), str(records), "-o", str(out)).exit_code == 0
    work = tmp_path / ".o.jsonl.parts"
    work.mkdir()
    from cramprules.cli.batch import _identity

    manifest = {
        "ruleset": "x", "inputs": [_identity(str(records))], "format": "jsonl",
        "id_field": None, "part_size": 100000, "chunk_size": 1000, "engine": "local",
    }  # fmt: skip
    (work / "manifest.json").write_text(json.dumps(manifest))
    records.write_text(records.read_text() + '{"pain": 1}\n')
    result = run("batch", str(mini), str(records), "-o", str(out), "--resume")
    assert result.exit_code == 2
    assert "differs in inputs, ruleset" in result.stderr


def test_a_line_longer_than_the_limit_is_an_error_not_a_memory_hog(mini, tmp_path):
    from cramprules import Limits
    from cramprules.cli import App, cli

    app = App(engine=cramprules.Engine(autoload=False, limits=Limits(max_fact_bytes=64)), autoload=False)
    path = tmp_path / "r.jsonl"
    path.write_text('{"pain": 1}\n{"pain": 2, "x": "' + "y" * 500 + '"}\n{"pain": 3}\n')
    import click.testing

    result = click.testing.CliRunner().invoke(cli, ["batch", str(mini), str(path), "-f", "csv"], obj=app)
    assert result.exit_code == 1
    assert [r["record"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["0", "2"]
    assert f"{path}: line 2: longer than 64 characters" in result.stderr
