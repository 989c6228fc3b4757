"""``cramprules batch``: many records, in order, locally or in parallel."""

from __future__ import annotations

import csv
import io
import json

import pytest

RECORDS = [
    {"pain": 9},
    {"constipation": True, "long_term": True},
    {"timing": "night"},
    {"diuretics": "yes", "kidney_disease": "no"},
    {},
    {"pain": "2", "bedtime": "no"},
]


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


@pytest.fixture
def expected(run, mini):
    """What ``eval --format json`` says for each record, one at a time."""
    out = []
    for record in RECORDS:
        result = run("eval", str(mini), "--facts", "-", "-f", "json", input=json.dumps(record))
        out.append(json.loads(result.stdout))
    return out


def test_jsonl_one_report_per_line_in_order(run, mini, records, expected):
    result = run("batch", str(mini), str(records))
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == expected
    assert result.stderr == ""


def test_json_list(run, mini, records, expected):
    result = run("batch", str(mini), str(records), "--format", "json")
    assert json.loads(result.stdout) == expected
    assert result.stdout == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_csv_summary(run, mini, records):
    result = run("batch", str(mini), str(records), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["record"] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert rows[0]["urgent"] == "yes"
    assert rows[0]["referrals"] == "doctor urgent"
    assert rows[1]["recommendations"] == "prefer citrate (conditional)"
    assert rows[3]["causes"] == "electrolyte_loss"
    assert rows[3]["recommendations"] == "recommend potassium"


def test_empty_input(run, mini, tmp_path):
    empty = tmp_path / "none.json"
    empty.write_text("[]")
    assert run("batch", str(mini), str(empty), "-f", "json").stdout == "[]\n"
    assert run("batch", str(mini), str(empty)).stdout == ""


def test_stdin_and_the_default_ruleset(run):
    result = run("batch", "-", input='[{"prolonged": true}, {}]')
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ruleset"]["name"] for r in lines] == ["leg_cramps", "leg_cramps"]
    assert lines[0]["referrals"][0]["urgent"] is True


def test_input_format_option(run, app, mini, tmp_path):
    if "csv" not in app.engine.loaders():
        pytest.skip("no csv loader registered")
    path = tmp_path / "records.txt"
    path.write_text("pain,timing\n9,night\n1,walking\n")
    result = run("batch", str(mini), str(path), "--input-format", "csv", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert [r["urgent"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["yes", "no"]


def test_too_many_arguments(run, mini, records):
    result = run("batch", str(mini), str(records), "extra")
    assert result.exit_code == 2
    assert "expected [RULESET] INPUT" in result.stderr


# ---------------------------------------------------------------- bad records


@pytest.fixture
def bad_records(tmp_path):
    path = tmp_path / "bad.jsonl"
    rows = [{"pain": 1}, {"painn": 3}, {"pain": 2}, {"pain": 11}, {"pain": 3}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_fail_fast_names_the_record_and_writes_nothing(run, mini, bad_records, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("batch", str(mini), str(bad_records), "-o", str(out))
    assert result.exit_code == 2
    assert f"{bad_records}: record 1: unknown fact 'painn'; did you mean 'pain'?" in result.stderr
    assert "--skip-invalid" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.jsonl"]


def test_skip_invalid_writes_the_others_and_exits_1(run, mini, bad_records):
    result = run("batch", str(mini), str(bad_records), "--skip-invalid", "-f", "csv")
    assert result.exit_code == 1
    assert [r["record"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["0", "2", "4"]
    errors = result.stderr.splitlines()
    assert errors[0] == f"{bad_records}: record 1: unknown fact 'painn'; did you mean 'pain'?"
    assert errors[1].startswith(f"{bad_records}: record 3: pain = 11 is out of range")
    assert errors[2] == "2 of 5 records skipped, 3 written."


@pytest.mark.parametrize("chunk", ["1", "2", "100"])
def test_bad_records_found_in_any_chunk(run, mini, bad_records, chunk):
    result = run("batch", str(mini), str(bad_records), "--skip-invalid", "-f", "csv", "--chunk-size", chunk)
    assert [r["record"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["0", "2", "4"]


def test_unreadable_input(run, mini, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run("batch", str(mini), str(broken))
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr
    assert run("batch", str(mini), str(tmp_path / "missing.json")).exit_code == 2


# ---------------------------------------------------------------- parallel


def test_worker_processes_give_the_same_output(run, mini, records):
    alone = run("batch", str(mini), str(records))
    pooled = run("batch", str(mini), str(records), "--workers", "2", "--chunk-size", "2")
    assert pooled.exit_code == 0, pooled.output
    assert pooled.stdout == alone.stdout


def test_worker_processes_report_bad_records(run, mini, bad_records):
    result = run(
        "batch", str(mini), str(bad_records), "--workers", "2", "--chunk-size", "1", "--skip-invalid"
    )
    assert result.exit_code == 1
    assert "record 1:" in result.stderr
    assert "record 3:" in result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_dask_gives_the_same_output(run, mini, records):
    pytest.importorskip("dask")
    alone = run("batch", str(mini), str(records))
    for workers in ("1", "2"):
        result = run(
            "batch", str(mini), str(records), "--engine", "dask", "--workers", workers, "--chunk-size", "2"
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == alone.stdout


def test_dask_missing_is_a_clear_error(run, mini, records, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError("No module named 'dask'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    result = run("batch", str(mini), str(records), "--engine", "dask")
    assert result.exit_code == 2
    assert "pip install 'cramprules[dask]'" in result.stderr


def test_a_worker_failure_is_reported_not_hidden(run, mini, records, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("worker broke")

    monkeypatch.setattr("cramprules.cli.batch.serialize", broken)
    result = run("batch", str(mini), str(records))
    assert result.exit_code == 70
    assert "RuntimeError: worker broke" in result.stderr


# ---------------------------------------------------------------- progress


def test_progress_bar_on_a_terminal_only(run, mini, records, monkeypatch):
    quiet = run("batch", str(mini), str(records))
    assert quiet.stderr == ""
    monkeypatch.setattr("cramprules.cli._common.is_terminal", lambda stream: True)
    shown = run("batch", str(mini), str(records))
    assert "Evaluating records.jsonl" in shown.stderr
    assert shown.stdout == quiet.stdout


class FakeBar:
    """Counts what a progress bar is told."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def update(self, n: int) -> None:
        self.steps.append(n)


def _spec(mini):
    from cramprules.cli.batch import WorkerSpec

    return WorkerSpec(str(mini), False, False, (), "jsonl")


def test_progress_counts_every_record_locally_and_in_processes(mini):
    from cramprules.cli.batch import run_here, run_processes

    for runner, extra in ((run_here, {}), (run_processes, {"workers": 2})):
        bar = FakeBar()
        results = runner(_spec(mini), RECORDS, 2, bar=bar, fail_fast=True, **extra)
        assert sum(bar.steps) == len(RECORDS), runner
        assert sorted(r.start for r in results) == [0, 2, 4]


def test_progress_counts_every_record_with_dask(mini):
    pytest.importorskip("dask")
    from cramprules.cli.batch import run_dask

    bar = FakeBar()
    results = run_dask(_spec(mini), RECORDS, 2, 1, bar)
    assert bar.steps == [2, 2, 2]
    assert [r.start for r in results] == [0, 2, 4]


def test_workers_zero_means_one_per_cpu(run, mini, records, monkeypatch):
    monkeypatch.setattr("cramprules.cli.batch.os.cpu_count", lambda: 2)
    seen = {}

    def spy(spec, records, size, workers, bar, *, fail_fast):
        seen["workers"] = workers
        from cramprules.cli.batch import run_here

        return run_here(spec, records, size, bar, fail_fast=fail_fast)

    monkeypatch.setattr("cramprules.cli.batch.run_processes", spy)
    result = run("batch", str(mini), str(records), "--workers", "0")
    assert result.exit_code == 0
    assert seen == {"workers": 2}


def test_output_file_is_written_whole(run, mini, records, tmp_path):
    out = tmp_path / "reports.jsonl"
    result = run("batch", str(mini), str(records), "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(out.read_text().splitlines()) == len(RECORDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.jsonl", "reports.jsonl"]


def test_include_testing(run, tmp_path):
    ruleset = tmp_path / "t.cramp"
    ruleset.write_text("rule trial:\n    if a\n    then recommend rest\n    status testing\n")
    records = tmp_path / "r.json"
    records.write_text('[{"a": true}]')
    without = json.loads(run("batch", str(ruleset), str(records)).stdout)
    with_testing = json.loads(run("batch", str(ruleset), str(records), "--include-testing").stdout)
    assert without["recommendations"] == []
    assert with_testing["recommendations"][0]["option"] == "rest"
