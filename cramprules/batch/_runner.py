"""The batch run: records read in chunks, evaluated by an engine, written in input order.

Output to a file goes through *parts*: every ``part_size`` records become a
part file in a work directory beside the output (``.NAME.parts/``), written
under a temporary name and renamed when whole, with a small ``.done`` file
last that holds its counts.  When every part is done they are joined into the
output (again under a temporary name, then renamed) and the work directory is
removed.  So an interrupted run never leaves a file that looks complete, and
``resume`` skips the parts already done: their records are read again (to
find where to go on) but not evaluated.

Engines map chunks to results in order with a bounded number in flight, so
memory stays flat: :class:`Serial` here, :class:`Processes` in worker
processes (each gets the pickled ruleset once), and
:class:`~cramprules.batch._dask.DaskEngine` on a Dask cluster.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, runtime_checkable
from typing import Any as AnyType

import attrs

from cramprules import _files
from cramprules.batch._evaluate import ChunkResult, Shape, evaluate_chunk
from cramprules.batch._io import PartWriter, chunks, concatenate
from cramprules.batch._records import BadRecord, Chunk, Record
from cramprules.exceptions import CramprulesError, FactError

if TYPE_CHECKING:
    from cramprules.batch._blocks import Block, Source
    from cramprules.ruleset import Ruleset

__all__ = [
    "Engine",
    "Input",
    "Processes",
    "Progress",
    "Serial",
    "Split",
    "Summary",
    "WritesParts",
    "run",
    "shape_of",
]

OUTPUT_FORMATS = ("jsonl", "json", "csv", "parquet")


def shape_of(format: str) -> Shape:
    return "table" if format in ("csv", "parquet") else "jsonl"


class Engine(Protocol):
    """Evaluates chunks, giving their results back in the order given."""

    def map(self, chunks: Iterable[Chunk], shape: Shape, with_id: bool) -> Iterator[ChunkResult]: ...


@attrs.frozen
class Serial:
    """Chunks one after the other, in this process."""

    ruleset: Ruleset

    def map(self, chunks: Iterable[Chunk], shape: Shape, with_id: bool) -> Iterator[ChunkResult]:
        for chunk in chunks:
            yield evaluate_chunk(self.ruleset, chunk, shape, with_id=with_id)


_WORKER: dict[str, Ruleset] = {}
"""The ruleset of a worker process, unpickled once when the process starts."""


def _start_worker(ruleset: Ruleset) -> None:
    _WORKER["ruleset"] = ruleset


def _worker_chunk(chunk: Chunk, shape: Shape, with_id: bool) -> ChunkResult:
    return evaluate_chunk(_WORKER["ruleset"], chunk, shape, with_id=with_id)


def ordered(
    submit: Callable[[Chunk], AnyType],
    result: Callable[[AnyType], ChunkResult],
    chunks: Iterable[Chunk],
    window: int,
) -> Iterator[ChunkResult]:
    """Results in input order, with at most ``window`` chunks in flight."""
    pending: collections.deque[AnyType] = collections.deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


@attrs.frozen
class Processes:
    """Chunks in a pool of worker processes (spawned: the same on every platform)."""

    ruleset: Ruleset
    workers: int

    def map(self, chunks: Iterable[Chunk], shape: Shape, with_id: bool) -> Iterator[ChunkResult]:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_start_worker, initargs=(self.ruleset,)
        ) as pool:
            yield from ordered(
                lambda chunk: pool.submit(_worker_chunk, chunk, shape, with_id),
                lambda future: future.result(),
                chunks,
                window=self.workers * 3,
            )


@runtime_checkable
class WritesParts(Protocol):
    """An engine whose workers read their own blocks of a file and write their own parts."""

    def write_parts(
        self,
        split: Split,
        number: int,
        plan: _Plan,
        work: Path,
        done: dict[int, dict[str, int]],
        counter: _Counter,
    ) -> None: ...


Split = Callable[[int], "tuple[Source, list[Block]]"]
"""Splits a file into blocks of about so many records (:func:`cramprules.batch._blocks.split`)."""


class Progress(Protocol):
    def __call__(self, read: int, errors: int) -> None: ...


@attrs.frozen
class Input:
    """One input file and where its output goes."""

    path: str
    records: Callable[[], Iterator[Record]]
    """Opens the input afresh (a resumed run reads it again)."""
    output: Path | None
    """``None``: stdout."""
    split: Split | None = None
    """How workers read it themselves, a block each (a file in JSON Lines, CSV or Parquet)."""


@attrs.frozen
class Summary:
    """What a run did: records read = reports written + errors."""

    read: int
    written: int
    errors: int
    resumed_parts: int = 0

    def line(self) -> str:
        return f"{self.read} records read: {self.written} reports written, {self.errors} errors"


@attrs.frozen
class _Plan:
    format: str
    shape: Shape
    with_id: bool
    chunk_size: int
    part_size: int


# ---------------------------------------------------------------- the run


def run(
    inputs: Sequence[Input],
    engine: Engine,
    *,
    format: str,
    id_field: str | None,
    errors: Callable[[Sequence[BadRecord]], None],
    errors_file: Path | None,
    work: Path | None,
    manifest: dict[str, object],
    resume: bool,
    chunk_size: int,
    part_size: int,
    progress: Progress | None = None,
    stdout: IO[str] | None = None,
) -> Summary:
    """Evaluate every input; each bad record goes to ``errors`` (or the errors file) as it is found.

    With ``work`` (output to files), parts and ``resume`` as the module says;
    without, one input is streamed to ``stdout``.
    """
    part_size = max(chunk_size, part_size - part_size % chunk_size)
    plan = _Plan(format, shape_of(format), id_field is not None, chunk_size, part_size)
    counter = _Counter(progress)
    if work is None:
        (only,) = inputs
        assert stdout is not None
        with _named(only):
            return _stream(only, engine, plan, stdout, errors, counter)
    fresh = _prepare(work, manifest, resume)
    try:
        total = Summary(0, 0, 0)
        for number, item in enumerate(inputs):
            with _named(item):
                done = _run_parts(item, number, engine, plan, work, counter)
            total = Summary(
                total.read + done.read,
                total.written + done.written,
                total.errors + done.errors,
                total.resumed_parts + done.resumed_parts,
            )
        _finish(inputs, plan, work, errors, errors_file)
    except BaseException:
        if fresh and not any(work.glob("*.done")):
            shutil.rmtree(work, ignore_errors=True)  # nothing done: nothing to resume
        raise
    return total


@contextlib.contextmanager
def _named(item: Input) -> Iterator[None]:
    """An input that cannot be read (missing, not Parquet, a bad CSV header) is named in the error."""
    try:
        yield
    except FactError as exc:
        where = _source_name(item.path)
        if str(exc).startswith(f"{where}: "):
            raise
        raise FactError(f"{where}: {exc}", fact=exc.fact, suggestion=exc.suggestion) from None


def _stream(
    item: Input,
    engine: Engine,
    plan: _Plan,
    stdout: IO[str],
    errors: Callable[[Sequence[BadRecord]], None],
    counter: _Counter,
) -> Summary:
    writer = PartWriter(stdout, plan.format)
    read = written = bad = 0
    source = _source_name(item.path)
    for result in engine.map(chunks(item.records(), plan.chunk_size), plan.shape, plan.with_id):
        writer.write(result.items)
        stdout.flush()  # a chunk's reports before its errors, and downstream gets them as they come
        if result.bad:
            errors([attrs.evolve(b, source=source) for b in result.bad])
        read += result.count
        written += len(result.items)
        bad += len(result.bad)
        counter.add(result.count, len(result.bad))
    writer.close()
    return Summary(read, written, bad)


def _source_name(path: str) -> str:
    return "stdin" if path == "-" else path


class _Counter:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.read = 0
        self.errors = 0

    def add(self, read: int, errors: int) -> None:
        self.read += read
        self.errors += errors
        if self.progress is not None:
            self.progress(self.read, self.errors)


MANIFEST = "manifest.json"


def _prepare(work: Path, manifest: dict[str, object], resume: bool) -> bool:
    """A fresh work directory (true), or with ``resume`` the one of the same run (false)."""
    written = work / MANIFEST
    if work.exists():
        if resume and written.exists():
            try:
                before = json.loads(written.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                before = None
            if before != manifest:
                changed = sorted(
                    k for k in manifest if not isinstance(before, dict) or before.get(k) != manifest[k]
                )
                raise CramprulesError(
                    f"cannot resume: the interrupted run in {work} differs in {', '.join(changed) or 'its manifest'}; "
                    "run it with the same options, or without --resume to start over"
                )
            return False
        shutil.rmtree(work)
    elif resume:
        raise CramprulesError(f"nothing to resume: no interrupted run in {work}; run without --resume")
    work.mkdir(parents=True)
    _atomic_text(written, json.dumps(manifest, sort_keys=True))
    return True


def _part_suffix(plan: _Plan) -> str:
    return {"jsonl": "jsonl", "table": plan.format}[plan.shape]


def _part(work: Path, number: int, k: int) -> str:
    return str(work / f"input{number:05d}-part{k:06d}")


def _run_parts(
    item: Input, number: int, engine: Engine, plan: _Plan, work: Path, counter: _Counter
) -> Summary:
    done: dict[int, dict[str, int]] = {}
    for marker in work.glob(f"input{number:05d}-part*.done"):
        k = int(marker.name.rsplit("part", 1)[1].split(".")[0])
        done[k] = json.loads(marker.read_text(encoding="utf-8"))
    if item.split is not None and isinstance(engine, WritesParts):
        engine.write_parts(item.split, number, plan, work, done, counter)
        return _totals(work, number, len(done))
    todo = _chunks_to_do(item.records(), plan, done, counter)
    current: _OpenPart | None = None
    for result in engine.map(todo, plan.shape, plan.with_id):
        k = result.start // plan.part_size
        if current is None or current.k != k:
            if current is not None:
                current.finish()
            current = _OpenPart(_part(work, number, k), k, plan, _source_name(item.path))
        current.add(result)
        counter.add(result.count, len(result.bad))
    if current is not None:
        current.finish()
    return _totals(work, number, len(done))


def _totals(work: Path, number: int, resumed: int) -> Summary:
    """What the parts of input ``number`` hold, from their ``.done`` files."""
    totals = Summary(0, 0, 0)
    for marker in sorted(work.glob(f"input{number:05d}-part*.done")):
        counts = json.loads(marker.read_text(encoding="utf-8"))
        totals = Summary(
            totals.read + counts["read"], totals.written + counts["written"], totals.errors + counts["errors"]
        )
    return attrs.evolve(totals, resumed_parts=resumed)


def _chunks_to_do(
    records: Iterator[Record], plan: _Plan, done: dict[int, dict[str, int]], counter: _Counter
) -> Iterator[Chunk]:
    """The chunks of the parts not done yet; the records of done parts are skipped."""
    for chunk in chunks(records, plan.chunk_size):
        k = chunk.start // plan.part_size
        if k in done:
            if chunk.start % plan.part_size == 0:
                counter.add(done[k]["read"], done[k]["errors"])
            continue
        yield chunk


class _OpenPart:
    """A part being written: its output and its errors, under temporary names until whole."""

    def __init__(self, base: str, k: int, plan: _Plan, source: str) -> None:
        self.base = base
        self.k = k
        self.source = source
        self.path = Path(f"{base}.{_part_suffix(plan)}")
        self.errors_path = Path(f"{base}.errors.jsonl")
        binary = plan.format == "parquet"
        # Names of this writer's own: a task of a killed run that is still
        # running on a cluster may write the same part while a resumed run does.
        token = f"{os.getpid()}.{secrets.token_hex(4)}.tmp"
        self._temporary = (Path(f"{self.path}.{token}"), Path(f"{self.errors_path}.{token}"))
        self._out: IO[AnyType] = _open(self._temporary[0], "w", binary=binary)
        self._errors = open(self._temporary[1], "w", encoding="utf-8")  # noqa: SIM115 - as above
        self.writer = PartWriter(self._out, "jsonl" if plan.shape == "jsonl" else plan.format, header=False)
        self.read = self.written = self.bad = 0

    def add(self, result: ChunkResult) -> None:
        self.writer.write(result.items)
        for bad in result.bad:
            self._errors.write(
                json.dumps(attrs.evolve(bad, source=self.source).to_dict(), ensure_ascii=False) + "\n"
            )
        self.read += result.count
        self.written += len(result.items)
        self.bad += len(result.bad)

    def finish(self) -> None:
        self.writer.close()
        for handle in (self._out, self._errors):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        os.replace(self._temporary[0], self.path)
        os.replace(self._temporary[1], self.errors_path)
        counts = {"read": self.read, "written": self.written, "errors": self.bad}
        _atomic_text(Path(f"{self.base}.done"), json.dumps(counts))


def _finish(
    inputs: Sequence[Input],
    plan: _Plan,
    work: Path,
    errors: Callable[[Sequence[BadRecord]], None],
    errors_file: Path | None,
) -> None:
    """Join the parts into the outputs and the errors file, each moved into place whole."""
    suffix = _part_suffix(plan)
    binary = plan.format == "parquet"
    for number, item in enumerate(inputs):
        assert item.output is not None
        parts = sorted(work.glob(f"input{number:05d}-part*.{suffix}"), key=lambda p: p.name)
        parts = [p for p in parts if not p.name.endswith(".errors.jsonl")]
        with atomic(item.output, binary=binary) as handle:
            concatenate(parts, plan.format, handle)
    error_parts = sorted(work.glob("input*-part*.errors.jsonl"), key=lambda p: p.name)
    if errors_file is not None:
        with atomic(errors_file) as handle:
            for part in error_parts:
                handle.write(part.read_text(encoding="utf-8"))
    else:
        for part in error_parts:
            with part.open(encoding="utf-8") as lines:
                errors([_bad_of(json.loads(line)) for line in lines])
    shutil.rmtree(work)


def _bad_of(data: dict[str, AnyType]) -> BadRecord:
    kind = next((k for k in ("line", "row") if k in data), "record")
    return BadRecord(
        data["record"], f"{kind} {data[kind]}", data.get("id"), data["error"], data.get("source", "")
    )


@contextlib.contextmanager
def atomic(target: Path, *, binary: bool = False) -> Iterator[IO[AnyType]]:
    """A file written under a temporary name beside ``target``, moved into place when whole.

    Text goes through :func:`cramprules._files.atomic_writer` (modes kept, devices
    written in place); Parquet, which is binary, the same way here.
    """
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    if not binary:
        with _files.atomic_writer(target) as text:
            yield text
        return
    temporary = directory / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with _open(temporary, "x", binary=True) as handle:  # the umask's permissions, unlike mkstemp's 0600
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _open(path: Path, mode: str, *, binary: bool) -> IO[AnyType]:
    if binary:
        return path.open(mode + "b")
    return path.open(mode, encoding="utf-8", newline="")


def _atomic_text(target: Path, text: str) -> None:
    with atomic(target) as handle:
        handle.write(text)


class Rate:
    """Records per second since it was made, for progress lines."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, read: int) -> float:
        elapsed = time.perf_counter() - self.started
        return read / elapsed if elapsed > 0 else 0.0
