"""Reading and writing files safely: the one place cramprules touches a path.

Reading is bounded *before* anything is read whole: a symlink to
``/dev/zero`` or a 50 GB file stops at the limit with a clear error instead
of filling memory.  Writing replaces a regular file atomically (all of it,
or on failure nothing) and keeps its permissions; a new file follows the
umask; anything that is not a regular file (a device, a FIFO,
``/dev/stdout``) is written in place, never replaced; a symlink is followed
and its target written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

__all__ = [
    "FileTooLarge",
    "NotText",
    "atomic_writer",
    "check_writable",
    "decode",
    "read_bounded",
    "read_stream_bounded",
    "read_text",
    "write_text",
]

_CHUNK = 1 << 16


class FileTooLarge(OSError):
    """A file or stream is longer than the limit it is read with."""

    def __init__(self, name: str, limit: int) -> None:
        self.limit = limit
        super().__init__(f"{name} is larger than the limit of {limit:,} bytes")


class NotText(ValueError):
    """The bytes are not UTF-8 text: says where, and which byte."""


def read_bounded(path: str | Path, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``; :class:`FileTooLarge` beyond that.

    Reads in chunks, so an endless file (``/dev/zero``, a FIFO that never
    closes its end) costs no more than the limit.  A directory raises
    ``IsADirectoryError`` as ``open`` does.
    """
    _no_nul(path)
    with open(path, "rb") as handle:
        data = _read_limited(handle, limit, str(path))
    assert isinstance(data, bytes)
    return data


def read_stream_bounded(stream: IO[bytes] | IO[str], limit: int, name: str = "<stdin>") -> str:
    """At most ``limit`` bytes (or characters, for a text stream) of an open stream, as text.

    A text stream is read through its binary buffer when it has one, so that
    bad bytes are named the same way whatever the stream's encoding settings
    (``PYTHONIOENCODING=utf-8`` makes ``sys.stdin`` strict, the C locale makes
    it hide bad bytes as surrogates)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream = buffer
    try:
        data = _read_limited(stream, limit, name)
    except UnicodeDecodeError as exc:
        raise NotText("not UTF-8 text: a byte cannot be read; send UTF-8") from exc
    if isinstance(data, bytes):
        return decode(data, name)
    try:  # a text stream decoded with surrogateescape hides bad bytes as lone surrogates
        data.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = data.count("\n", 0, exc.start) + 1
        raise NotText(f"not UTF-8 text: a byte on line {line} cannot be read; send UTF-8") from None
    return data


AnyBytes = bytes | str


def _read_limited(handle: IO[bytes] | IO[str], limit: int, name: str) -> AnyBytes:
    parts: list[AnyBytes] = []
    size = 0
    while True:
        chunk = handle.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(name, limit)
    if not parts:
        return b"" if "b" in getattr(handle, "mode", "b") else ""
    empty: AnyBytes = parts[0][:0]
    return empty.join(parts)  # type: ignore[arg-type]


def _no_nul(path: str | Path) -> None:
    """No file name holds a NUL byte; the system calls would raise ``ValueError`` for it."""
    if "\x00" in str(path):
        raise FileNotFoundError(2, "No such file (the name holds a NUL byte)", str(path))


def decode(data: bytes, name: str) -> str:
    """UTF-8 text, with a leading byte-order mark dropped; :class:`NotText` naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        fix = "send UTF-8" if name == "<stdin>" else "save it as UTF-8"
        raise NotText(
            f"not UTF-8 text: byte 0x{data[exc.start]:02X} on line {line} cannot be read; {fix}"
        ) from None


def read_text(path: str | Path, limit: int) -> str:
    """A file's text, bounded by ``limit`` bytes and decoded as UTF-8 (a BOM is dropped)."""
    return decode(read_bounded(path, limit), str(path))


# ---------------------------------------------------------------- writing


_IN_PLACE = ("/dev/", "/proc/")
"""Paths written in place even when they lead to a regular file: ``/dev/stdout`` may lead to
the very file a shell redirected to, which must not be replaced under the shell."""


def _target(path: str | Path) -> tuple[Path, os.stat_result | None, bool]:
    """Where writing ``path`` really goes, what is there now, and whether to write it in place.

    A symlink is followed (its target is written, the link stays); a loop
    of links raises ``OSError``.  Anything that is not a regular file is
    written in place.
    """
    _no_nul(path)
    path = Path(path)
    try:
        info = path.stat()  # follows symlinks
    except FileNotFoundError:
        info = None
    special = info is not None and not stat.S_ISREG(info.st_mode)
    if info is not None and (special or str(path.absolute()).startswith(_IN_PLACE)):
        return path, info, True
    if path.is_symlink():
        return Path(os.path.realpath(path, strict=info is not None)), info, False
    return path, info, False


def check_writable(path: str | Path) -> None:
    """Raise ``OSError`` now if ``path`` could not be written later.

    For commands that must not do their work (ask questions, evaluate a
    batch) only to find that the result cannot be saved.
    """
    target, info, in_place = _target(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if in_place:
        if not os.access(target, os.W_OK):
            raise PermissionError(13, "Permission denied", str(path))
        return
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(2, "No such directory", str(directory))
    if not os.access(directory, os.W_OK | os.X_OK) or (info is not None and not os.access(target, os.W_OK)):
        raise PermissionError(13, "Permission denied", str(path))


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[TextIO]:
    """A text handle whose content ends up at ``path``: all of it, or on failure nothing.

    A regular file (or a new one) is written to a temporary file beside it,
    which replaces it only when the ``with`` block finishes; the existing
    file's mode is kept and a new file's follows the umask.  A device, FIFO
    or terminal is written in place.  Raises ``OSError`` when it cannot.
    """
    target, info, in_place = _target(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if in_place:
        with open(target, "w", encoding="utf-8", newline="") as handle:
            yield handle
        return
    directory = target.parent if str(target.parent) else Path(".")
    temporary = directory / f".{target.name}.{secrets.token_hex(4)}.tmp"
    # 0o666 lets the umask decide a new file's mode, as any editor's save does.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if info is None else 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            if info is not None:
                with contextlib.suppress(OSError):  # keep the mode where the system allows
                    os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as :func:`atomic_writer` does."""
    with atomic_writer(path) as handle:
        handle.write(text)
