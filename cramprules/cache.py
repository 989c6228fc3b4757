"""The compiled-ruleset cache: a built ruleset kept on disk, loaded instead of rebuilt.

Building a ruleset means parsing, checking and compiling generated Python;
loading it from the cache skips all three.  An entry holds the checked
program and the compiled code of its deciders and decisions.  It is found by
a key made from everything that decides the build: every source text, the
engine and Python versions, and the plugins that contribute (their names,
versions and functions).  Files a ruleset includes, and texts plugins add,
are listed in the entry with their hashes and checked again on every load.

Trust: an entry is a file anyone with write access to the cache directory
could have changed, and its contents (pickle, marshalled code) would run
code if read blindly.  So every entry is signed with HMAC-SHA256 under a
secret made for this user (``key`` in the cache directory, mode 0600), and
nothing in it is unpickled or unmarshalled before the signature checks.  An
entry that is truncated, corrupt, from another engine or Python, from another
user's key, or whose dependencies changed, is ignored and rebuilt.  Writes go
to a temporary file renamed into place, so a reader never sees half an entry.

Switch it off with ``Engine(cache=False)`` or ``CRAMPRULES_CACHE=off``;
``CRAMPRULES_CACHE_DIR`` (or ``Engine(cache=path)``) moves it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import marshal
import os
import pickle
import secrets
import stat
import sys
import tempfile
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any as AnyType

import attrs

__all__ = [
    "FORMAT",
    "MAX_ENTRIES",
    "Cache",
    "Entry",
    "cache_from_setting",
    "default_directory",
    "fingerprint",
]

FORMAT = 1
"""Version of the entry layout; part of every key."""

MAX_ENTRIES = 256
"""Entries kept; writing one more removes the oldest (every distinct text parsed makes one)."""

_MAGIC = b"cramprules-cache\n"
_KEY_FILE = "key"
_SUFFIX = ".crc"


def default_directory() -> Path:
    """The platform's cache directory for cramprules (``CRAMPRULES_CACHE_DIR`` wins)."""
    explicit = os.environ.get("CRAMPRULES_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "cramprules" / "Cache"
    if sys.platform == "darwin":  # pragma: no cover - platform specific
        return Path.home() / "Library" / "Caches" / "cramprules"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cramprules"


def fingerprint(parts: Iterable[object]) -> str:
    """A SHA-256 over ``parts``, each written out with its length so none can run into the next."""
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@attrs.frozen
class Entry:
    """What a cache entry holds: plain data, and code compiled by this engine."""

    manifest: Mapping[str, AnyType]
    """What to check again before using the entry: files and plugin texts with their hashes."""
    state: AnyType
    """The checked program and what was derived from it (pickled)."""
    deciders: tuple[types.CodeType, ...]
    deciders_source: str
    recipes: tuple[tuple[AnyType, ...], ...]
    decisions: tuple[types.CodeType, ...]
    decisions_source: str


class Cache:
    """A directory of signed cache entries.

    ``load`` returns an :class:`Entry` or None (missing, foreign, corrupt:
    the caller builds and ``store``s).  Never raises for a bad entry or an
    unwritable directory: the cache only ever saves time.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._secret: bytes | None = None

    def __repr__(self) -> str:
        return f"<Cache {self.directory}>"

    # ------------------------------------------------------------ the secret

    def secret(self) -> bytes | None:
        """This user's signing key, made on first use; None if it cannot be trusted."""
        if self._secret is not None:
            return self._secret
        path = self.directory / _KEY_FILE
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(secrets.token_bytes(32))
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                return None
            if os.name == "posix" and (
                info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid()
            ):
                return None  # readable by others, or not ours: signatures would mean nothing
            key = path.read_bytes()
        except OSError:
            return None
        if len(key) != 32:
            return None
        self._secret = key
        return key

    # ------------------------------------------------------------ entries

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{_SUFFIX}"

    def load(self, key: str, still_valid: Callable[[Mapping[str, AnyType]], bool]) -> Entry | None:
        """The entry stored under ``key`` if it is genuine and ``still_valid(manifest)``."""
        secret = self.secret()
        if secret is None:
            return None
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        head = len(_MAGIC)
        if len(data) < head + 32 or not data.startswith(_MAGIC):
            return None
        signature, payload = data[head : head + 32], data[head + 32 :]
        expected = hmac.new(secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            return None
        # Signed by this user's key for this key: written by this engine.
        try:
            fields = marshal.loads(payload)
            if not isinstance(fields, tuple) or len(fields) != 8 or fields[0] != FORMAT:
                return None
            _, manifest, state, deciders, deciders_source, recipes, decisions, decisions_source = fields
            entry = Entry(
                manifest=manifest,
                state=pickle.loads(state),
                deciders=deciders,
                deciders_source=deciders_source,
                recipes=recipes,
                decisions=decisions,
                decisions_source=decisions_source,
            )
        except Exception:  # noqa: BLE001 - a signed entry that fails to load is rebuilt
            return None
        try:
            return entry if still_valid(entry.manifest) else None
        except Exception:  # noqa: BLE001 - a dependency that cannot be checked means rebuild
            return None

    def store(
        self,
        key: str,
        *,
        manifest: Mapping[str, AnyType],
        state: object,
        deciders: Sequence[types.CodeType],
        deciders_source: str,
        recipes: Sequence[tuple[AnyType, ...]],
        decisions: Sequence[types.CodeType],
        decisions_source: str,
    ) -> bool:
        """Write an entry atomically; False (and nothing written) when that is not possible."""
        secret = self.secret()
        if secret is None:
            return False
        try:
            payload = marshal.dumps(
                (
                    FORMAT,
                    dict(manifest),
                    pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),
                    tuple(deciders),
                    deciders_source,
                    tuple(recipes),
                    tuple(decisions),
                    decisions_source,
                )
            )
        except (ValueError, pickle.PicklingError, TypeError, AttributeError):
            return False
        signature = hmac.new(secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_MAGIC)
                    out.write(signature)
                    out.write(payload)
                os.replace(temporary, self.path(key))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            return False
        self.prune()
        return True

    def prune(self, keep: int | None = None) -> int:
        """Remove the least recently written entries beyond ``keep`` (default :data:`MAX_ENTRIES`)."""
        keep = MAX_ENTRIES if keep is None else keep
        try:
            entries = sorted(self.directory.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return 0
        removed = 0
        for entry in entries[: max(0, len(entries) - keep)]:
            entry.unlink(missing_ok=True)
            removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry (not the key); returns how many."""
        count = 0
        for entry in self.directory.glob(f"*{_SUFFIX}"):
            entry.unlink(missing_ok=True)
            count += 1
        return count


def cache_from_setting(setting: bool | str | Path | Cache | None) -> Cache | None:
    """The cache an engine uses: ``None`` follows ``CRAMPRULES_CACHE`` (on unless ``off``)."""
    if isinstance(setting, Cache):
        return setting
    if setting is None:
        value = os.environ.get("CRAMPRULES_CACHE", "").strip().lower()
        if value in ("0", "off", "no", "false"):
            return None
        return Cache(default_directory())
    if setting is False:
        return None
    if setting is True:
        return Cache(default_directory())
    return Cache(Path(setting))


PYTHON = (sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())
"""The Python that compiled an entry's code: marshalled code is only valid for it."""
