"""``cramprules._files``: bounded reads and the one way of writing files."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from cramprules import _files


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")

    def fail_halfway() -> None:
        with _files.atomic_writer(target) as handle:
            handle.write("half")
            raise RuntimeError("the render failed")

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "new.txt")
    _files.write_text(link, "text\n")
    assert link.is_symlink()
    assert (tmp_path / "new.txt").read_text() == "text\n"


def test_a_loop_of_symlinks_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError):  # noqa: PT011 - the CLI shows its strerror
        _files.write_text(tmp_path / "a", "text")


def test_a_character_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    _files.write_text(link, "gone\n")
    assert link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_is_not_an_output(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        _files.write_text(tmp_path, "text")
    with pytest.raises(IsADirectoryError):
        _files.check_writable(tmp_path)


def test_check_writable_says_now_what_writing_would_say_later(tmp_path: Path) -> None:
    _files.check_writable(tmp_path / "new.json")  # a new file in a writable directory: fine
    with pytest.raises(FileNotFoundError):
        _files.check_writable(tmp_path / "missing" / "new.json")


def test_reads_stop_at_the_limit_on_endless_files() -> None:
    with pytest.raises(_files.FileTooLarge, match="larger than the limit of 1,000 bytes"):
        _files.read_bounded("/dev/zero", 1_000)
    assert _files.read_stream_bounded(io.StringIO("x" * 10), 10) == "x" * 10
    with pytest.raises(_files.FileTooLarge):
        _files.read_stream_bounded(io.StringIO("x" * 11), 10)


def test_text_is_utf8_with_the_bom_dropped_and_bad_bytes_named(tmp_path: Path) -> None:
    path = tmp_path / "f.cramp"
    path.write_bytes(b"\xef\xbb\xbfok")
    assert _files.read_text(path, 100) == "ok"
    path.write_bytes(b"line one\nfa\xefct\n")
    with pytest.raises(_files.NotText, match=r"^not UTF-8 text: byte 0xEF on line 2 cannot be read"):
        _files.read_text(path, 100)
