"""How a ruleset was built, kept so that another process can build it again.

A :class:`~cramprules.ruleset.Ruleset` holds compiled functions, which do not
pickle.  What does pickle is what it was built from: its source texts (the
main text, every included file, the base it extends and the plugin fragments,
each with its origin, so traces name the same files) and the names of the
plugins whose Python code (functions, derived facts, unit conversion, report
hooks) it runs with.  A worker process or a Dask worker on another machine
rebuilds the ruleset from the texts, reading nothing from disk, and loads the
plugins by name: they must be installed there.

:class:`Recorder` notes every text while an :class:`~cramprules.engine.Engine`
checks a ruleset; :class:`Replay` serves the same texts back when it is
rebuilt.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from cramprules.checker import SourceText, read_file
from cramprules.exceptions import PluginError

__all__ = ["PluginSpec", "Recipe", "Recorder", "Replay"]


@attrs.frozen
class PluginSpec:
    """The plugins of an engine, by name: what a worker needs to load the same ones.

    ``modules`` are plugins passed to ``Engine(plugins=[...])`` as modules (by
    their import name); ``objects`` are the other plugins passed that way,
    pickled as they are (their class must be importable on the worker);
    ``loaded`` are the installed plugins loaded from entry points.
    """

    autoload: bool
    disabled: tuple[str, ...]
    modules: tuple[str, ...] = ()
    objects: tuple[object, ...] = ()
    loaded: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, plugins: Sequence[object], *, autoload: bool, disabled: Sequence[str], loaded: Sequence[str]
    ) -> PluginSpec:
        modules = tuple(p.__name__ for p in plugins if isinstance(p, types.ModuleType))
        objects = tuple(p for p in plugins if not isinstance(p, types.ModuleType))
        return cls(autoload, tuple(disabled), modules, objects, tuple(sorted(loaded)))

    def plugins(self) -> list[object]:
        """The explicit plugins, modules imported by name."""
        out: list[object] = []
        for name in self.modules:
            try:
                out.append(importlib.import_module(name))
            except ImportError as exc:
                raise PluginError(
                    f"the ruleset needs plugin module '{name}', which cannot be imported here: {exc}; "
                    "install it on every worker",
                    plugin=name,
                ) from exc
        return [*out, *self.objects]

    def disabled_here(self) -> tuple[str, ...]:
        """``disabled``, plus installed plugins here that the ruleset was not built with."""
        if not self.autoload:
            return self.disabled
        import importlib.metadata

        from cramprules.plugins import ENTRY_POINT_GROUP

        installed = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        missing = sorted(set(self.loaded) - installed)
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            raise PluginError(
                f"the ruleset was built with plugin(s) {names}, which are not installed here; "
                "install the same plugins on every worker",
                plugin=missing[0],
            )
        return (*self.disabled, *sorted(installed - set(self.loaded) - set(self.disabled)))


@attrs.frozen
class Recipe:
    """Every text a ruleset was checked from, in the roles they played, and its plugins."""

    main: SourceText
    include_testing: bool
    plugins: PluginSpec
    includes: tuple[SourceText, ...] = ()
    """Every included file read, its ``path`` the resolved path its includer named."""
    bases: tuple[tuple[str, tuple[SourceText, ...]], ...] = ()
    extensions: tuple[tuple[str, tuple[SourceText, ...]], ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        """Every text, for a quick look at what is sent."""
        parts = [self.main, *self.includes]
        for _, group in (*self.bases, *self.extensions):
            parts.extend(group)
        return tuple(p.text for p in parts)


class Recorder:
    """Stands between the checker and its sources, noting each text it is given."""

    def __init__(
        self,
        extensions: Callable[[str], Sequence[SourceText]],
        base: Callable[[str], Sequence[SourceText]],
    ) -> None:
        self._extensions = extensions
        self._base = base
        self.included: list[SourceText] = []
        self.bases: list[tuple[str, tuple[SourceText, ...]]] = []
        self.fragments: list[tuple[str, tuple[SourceText, ...]]] = []

    def extensions(self, name: str) -> Sequence[SourceText]:
        found = tuple(self._extensions(name))
        self.fragments.append((name, found))
        return found

    def base(self, name: str) -> Sequence[SourceText]:
        found = tuple(self._base(name))
        self.bases.append((name, found))
        return found

    def open(self, path: Path, limit: int) -> SourceText:
        source = read_file(path, limit)
        self.included.append(source)
        return source

    def recipe(self, main: SourceText, include_testing: bool, plugins: PluginSpec) -> Recipe:
        return Recipe(
            main, include_testing, plugins, tuple(self.included), tuple(self.bases), tuple(self.fragments)
        )


class Replay:
    """Serves a recipe's texts back to the checker: nothing is read from disk or plugins."""

    def __init__(self, recipe: Recipe) -> None:
        self._recipe = recipe
        self._includes: dict[Path | None, SourceText] = {}
        for source in recipe.includes:
            self._includes[source.path] = source
            if source.path is not None:  # as this machine resolves it (symlinks that differ here)
                self._includes.setdefault(source.path.resolve(), source)

    def extensions(self, name: str) -> Sequence[SourceText]:
        return dict(self._recipe.extensions).get(name, ())

    def base(self, name: str) -> Sequence[SourceText]:
        return dict(self._recipe.bases)[name]

    def open(self, path: Path, limit: int) -> SourceText:
        try:
            return self._includes[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def recipe(self, main: SourceText, include_testing: bool, plugins: PluginSpec) -> Recipe:
        return self._recipe
