"""The :class:`Engine`: plugins, named rulesets, formats and loaders, bound together.

An application that embeds cramprules makes its own engine
(``Engine(plugins=[...], autoload=False)``) and gets an isolated world.  The
module-level functions of :mod:`cramprules` use a default engine made on first
use.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any as AnyType

import pluggy

from cramprules import _files
from cramprules import cache as _cache
from cramprules import plugins as _plugins
from cramprules._resources import display_path
from cramprules._version import __version__
from cramprules.cache import Cache, Entry, cache_from_setting
from cramprules.cached_build import code_of, entry_of, function_signature, manifest_of, text_id
from cramprules.checker import SourceText, check, read_file
from cramprules.exceptions import CramprulesError, FactError, PluginError, UnknownRuleset, shorten
from cramprules.limits import DEFAULT_LIMITS, Limits
from cramprules.names import closest
from cramprules.recipe import PluginSpec, Recipe, Recorder, Replay
from cramprules.report import Report
from cramprules.ruleset import Ruleset, build_ruleset, restore_ruleset
from cramprules.units import Substance, normalizer

__all__ = ["DEFAULT_RULESET", "Engine", "Limits"]

DEFAULT_RULESET = "leg_cramps"


class Engine:
    """Plugins and the rulesets, formats and loaders they provide.

    ``plugins`` are objects or modules with :data:`cramprules.hookimpl`
    functions.  ``autoload`` loads installed plugins from entry points
    (default: yes, unless ``CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD`` is set);
    ``disable`` names plugins to leave out, as ``-p no:NAME`` does.
    ``limits`` bound every input the engine reads (see :class:`Limits` and
    docs/security.md).  ``cache`` is the compiled-ruleset cache
    (:mod:`cramprules.cache`): on by default in the platform cache directory
    unless ``CRAMPRULES_CACHE=off``; ``False`` switches it off, a path moves it.
    Thread-safe: the caches fill under a lock and rulesets are immutable.
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        autoload: bool | None = None,
        disable: Iterable[str] = (),
        limits: Limits = DEFAULT_LIMITS,
        cache: bool | str | Path | Cache | None = None,
    ) -> None:
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a cramprules.Limits, not {type(limits).__name__}")
        self.limits = limits
        self._extra = tuple(plugins)
        self._autoload = (not _plugins.autoload_disabled()) if autoload is None else autoload
        self._disable = tuple(disable)
        self._lock = threading.RLock()
        self._pm: pluggy.PluginManager | None = None
        self._cache: dict[str, AnyType] = {}
        self._rulesets: dict[tuple[str, bool], Ruleset] = {}
        self._disk = cache_from_setting(cache)

    @property
    def disk_cache(self) -> Cache | None:
        """The compiled-ruleset cache this engine reads and writes, or None when off."""
        return self._disk

    def __repr__(self) -> str:
        return f"<Engine autoload={self._autoload} disable={list(self._disable)}>"

    # ------------------------------------------------------------ plugins

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The engine's own pluggy manager, made on first use."""
        with self._lock:
            if self._pm is None:
                self._pm = _plugins.make_plugin_manager(
                    self._extra, autoload=self._autoload, disabled=self._disable
                )
            return self._pm

    def plugins(self, *, include_disabled: bool = False) -> list[_plugins.PluginInfo]:
        """Every loaded plugin with its distribution, version and hooks.

        ``include_disabled`` also lists the plugins that ``disable`` left out.
        """
        return _plugins.list_plugins(self.plugin_manager, include_disabled=include_disabled)

    def _collected(
        self, hook: str, what: str, check_entry: Callable[[str, object], str | None]
    ) -> dict[str, tuple[AnyType, str]]:
        with self._lock:
            if hook not in self._cache:
                self._cache[hook] = _plugins.collect(self.plugin_manager, hook, what=what, check=check_entry)
            return self._cache[hook]  # type: ignore[no-any-return]

    def functions(self) -> dict[str, tuple[Callable[..., object], str]]:
        """Functions callable in conditions: name -> (callable, plugin)."""
        return self._collected("cramprules_functions", "function", _plugins.identifier_check)

    def formats(self) -> dict[str, Callable[..., str]]:
        """Output formats by name."""
        found = self._collected("cramprules_formats", "format", _plugins.callable_check)
        return {name: fn for name, (fn, _) in sorted(found.items())}

    def loaders(self) -> dict[str, Callable[[str], Sequence[Mapping[str, object]]]]:
        """Fact loaders by file suffix (without the dot, such as ``json`` or ``fhir.json``)."""
        found = self._collected("cramprules_loaders", "loader", _plugins.loader_check)
        return {name: fn for name, (fn, _) in sorted(found.items())}

    def ruleset_names(self) -> list[str]:
        """The names of every ruleset the plugins offer."""
        found = self._collected("cramprules_rulesets", "ruleset", _plugins.ruleset_check)
        return sorted(found)

    # ------------------------------------------------------------ rulesets

    def _named_source(self, name: str) -> SourceText:
        found = self._collected("cramprules_rulesets", "ruleset", _plugins.ruleset_check)
        if name not in found:
            raise UnknownRuleset(name, list(found))
        thing, plugin = found[name]
        if isinstance(thing, Path):
            try:
                text = self._read_ruleset_file(thing)
            except (OSError, _files.NotText) as exc:
                raise PluginError(
                    f"plugin '{plugin}' offers ruleset '{name}' at {thing}, which cannot be read: {_reason(exc)}",
                    plugin=plugin,
                ) from exc
            return SourceText(text, display_path(thing), path=thing, root=thing.parent, limits=self.limits)
        return SourceText(str(thing), f"<plugin {plugin}: {name}>", limits=self.limits)

    def _read_ruleset_file(self, path: Path) -> str:
        """A ruleset file's text, bounded before it is read (four UTF-8 bytes a character at most)."""
        return _files.read_text(path, self.limits.max_source_chars * 4)

    def _fragments(self, name: str) -> list[SourceText]:
        out = []
        for plugin, fragments in _plugins.fragments(self.plugin_manager, name):
            for i, fragment in enumerate(fragments):
                if isinstance(fragment, Path):
                    try:
                        text = self._read_ruleset_file(fragment)
                    except (OSError, _files.NotText) as exc:
                        raise PluginError(
                            f"plugin '{plugin}' extends '{name}' with {fragment}, which cannot be read: "
                            f"{_reason(exc)}",
                            plugin=plugin,
                        ) from exc
                    origin = f"<plugin {plugin}: {fragment.name}>"
                    out.append(
                        SourceText(text, origin, path=fragment, root=fragment.parent, limits=self.limits)
                    )
                else:
                    suffix = f" #{i + 1}" if len(fragments) > 1 else ""
                    out.append(SourceText(fragment, f"<plugin {plugin}{suffix}>", limits=self.limits))
        return out

    def _base(self, name: str) -> list[SourceText]:
        return [self._named_source(name), *self._fragments(name)]

    def _build(self, main: SourceText, *, include_testing: bool, recipe: Recipe | None = None) -> Ruleset:
        """Check and compile ``main``, or load it from the cache.

        With a ``recipe``, from its texts alone (see :mod:`cramprules.recipe`).
        """
        with _collector_paused():
            disk = self._disk
            if disk is None or recipe is not None:
                return self._build_now(main, include_testing=include_testing, asked=None, recipe=recipe)
            key = self._cache_key(main, include_testing)
            entry = disk.load(key, self._still_valid)
            if entry is not None:
                return self._restore(entry, main, include_testing)
            asked: dict[str, dict[str, list[str]]] = {"fragments": {}, "bases": {}}
            ruleset = self._build_now(main, include_testing=include_testing, asked=asked, recipe=None)
            manifest = manifest_of(main, ruleset.program, asked)
            if ruleset.compiled.code is not None and manifest is not None:
                disk.store(key, **entry_of(ruleset, manifest))
            return ruleset

    def _build_now(
        self,
        main: SourceText,
        *,
        include_testing: bool,
        asked: dict[str, dict[str, list[str]]] | None,
        recipe: Recipe | None,
    ) -> Ruleset:
        functions = self.functions()
        extensions, base = self._fragments, self._base
        if asked is not None:
            # Remember what the plugins added, to check it again before a cached copy is used.
            def extensions(name: str) -> list[SourceText]:
                texts = self._fragments(name)
                asked["fragments"][name] = [text_id(t) for t in texts]
                return texts

            def base(name: str) -> list[SourceText]:
                texts = self._base(name)
                asked["bases"][name] = [text_id(t) for t in texts]
                return texts

        try:
            return self._compile(
                main, functions, extensions, base, include_testing=include_testing, recipe=recipe
            )
        except (RecursionError, MemoryError):
            # The limits keep real rulesets far from this; a pathological one gets a message, not a crash.
            raise CramprulesError(
                f"{main.origin}: this ruleset is too complex to compile within the memory and stack "
                "available; split it, or have fewer rules conclude the same outcome"
            ) from None

    def _compile(
        self,
        main: SourceText,
        functions: dict[str, tuple[Callable[..., object], str]],
        extensions: Callable[[str], list[SourceText]],
        base: Callable[[str], list[SourceText]],
        *,
        include_testing: bool,
        recipe: Recipe | None,
    ) -> Ruleset:
        sources = Recorder(extensions, base) if recipe is None else Replay(recipe)
        program = check(
            main,
            extensions=sources.extensions,
            resolve_base=sources.base,
            opener=sources.open,
            functions=functions,
            include_testing=include_testing,
        )
        return build_ruleset(
            program,
            functions={n: functions[n] for n in program.functions},
            derivers=self._derivers(),
            report_hooks=self._report_hooks(),
            normalize=normalizer(program.facts, self.convert_units, self.substances()),
            engine_version=__version__,
            recipe=sources.recipe(main, include_testing, self._plugin_spec()),
        )

    def _plugin_spec(self) -> PluginSpec:
        """This engine's plugins by name, for a worker to load the same ones."""
        pm = self.plugin_manager
        loaded = [pm.get_name(plugin) for plugin, _ in pm.list_plugin_distinfo()]
        return PluginSpec.of(
            self._extra,
            autoload=self._autoload,
            disabled=self._disable,
            loaded=[name for name in loaded if name is not None],
        )

    @classmethod
    def rebuild(cls, recipe: Recipe) -> Ruleset:
        """A ruleset built again from a recipe, by a new engine with the same plugins."""
        spec = recipe.plugins
        engine = cls(
            spec.plugins(), autoload=spec.autoload, disable=spec.disabled_here(), limits=recipe.main.limits
        )
        return engine._build(recipe.main, include_testing=recipe.include_testing, recipe=recipe)

    # ------------------------------------------------------------ the compiled-ruleset cache

    def _cache_key(self, main: SourceText, include_testing: bool) -> str:
        """Everything that decides what a build makes, hashed."""
        return _cache.fingerprint(
            [
                "cramprules",
                _cache.FORMAT,
                __version__,
                _cache.PYTHON,
                include_testing,
                repr(self.limits),  # a ruleset within looser limits may be refused by stricter ones
                os.getcwd(),  # origins in reports are shown relative to it
                main.origin,
                str(main.path),
                str(main.root),
                main.text,
                self._plugins_fingerprint(),
            ]
        )

    def _plugins_fingerprint(self) -> str:
        """The plugins that can contribute, and their functions, as a hash."""
        with self._lock:
            if "fingerprint" not in self._cache:
                parts: list[object] = [
                    (p.name, p.distribution, p.version, p.module, p.hooks) for p in self.plugins()
                ]
                for name, (function, plugin) in sorted(self.functions().items()):
                    code = getattr(function, "__code__", None)
                    parts.append(
                        (
                            name,
                            plugin,
                            getattr(function, "__module__", None),
                            getattr(function, "__qualname__", type(function).__qualname__),
                            function_signature(function),
                            code.co_code if code is not None else None,
                            repr(code.co_consts) if code is not None else None,
                        )
                    )
                self._cache["fingerprint"] = _cache.fingerprint(parts)
            return self._cache["fingerprint"]  # type: ignore[no-any-return]

    def _still_valid(self, manifest: Mapping[str, AnyType]) -> bool:
        """Whether the files and plugin texts a cached ruleset was built from are unchanged."""
        for path, digest in manifest["files"]:
            if _cache.text_hash(read_file(Path(path), self.limits.max_source_chars).text) != digest:
                return False
        for name, ids in manifest["fragments"].items():
            if [text_id(t) for t in self._fragments(name)] != ids:
                return False
        return all([text_id(t) for t in self._base(name)] == ids for name, ids in manifest["bases"].items())

    def _restore(self, entry: Entry, main: SourceText, include_testing: bool) -> Ruleset:
        *state, (included, bases, fragments) = entry.state
        program = state[0]
        functions = self.functions()
        recipe = Recipe(main, include_testing, self._plugin_spec(), included, bases, fragments)
        return restore_ruleset(
            tuple(state),
            code_of(entry),
            functions={n: functions[n] for n in program.functions},
            derivers=self._derivers(),
            report_hooks=self._report_hooks(),
            normalize=normalizer(program.facts, self.convert_units, self.substances()),
            engine_version=__version__,
            recipe=recipe,
        )

    def substances(self) -> dict[str, Substance]:
        """What the plugins say number facts measure (``cramprules_substances``): fact -> Substance."""
        check = _substance_check
        found = self._collected("cramprules_substances", "substance of fact", check)
        return {name: thing for name, (thing, _) in found.items()}

    def convert_units(self, value: float, unit: str, to_unit: str, fact: str = "") -> float | None:
        """``value`` in ``unit`` converted to ``to_unit`` by the plugins, or None when none can."""
        substance = self.substances().get(fact)
        answers = _plugins.call(
            self.plugin_manager,
            "cramprules_convert_units",
            value=value,
            unit=unit,
            to_unit=to_unit,
            substance=substance,
        )
        if not answers:
            return None
        plugin, result = answers[0].plugin, answers[0].value
        if isinstance(result, bool) or not isinstance(result, (int, float)):
            raise PluginError(
                f"plugin '{plugin}' returned {type(result).__name__} from cramprules_convert_units, "
                "not a number (or None when it cannot convert)",
                plugin=plugin,
            )
        return float(result)

    def _derivers(self) -> tuple[Callable[[Mapping[str, object], Ruleset], Mapping[str, object]], ...]:
        """The derive-facts hook bound to this engine, or nothing when no plugin implements it."""
        pm = self.plugin_manager
        if not pm.hook.cramprules_derive_facts.get_hookimpls():
            return ()
        return (functools.partial(_plugins.derive_facts, pm),)

    def _report_hooks(self) -> tuple[Callable[[Report], None], ...]:
        """The report hook bound to this engine, or nothing when no plugin implements it."""
        pm = self.plugin_manager
        if not pm.hook.cramprules_report.get_hookimpls():
            return ()
        return (functools.partial(_plugins.notify, pm),)

    def parse_ruleset(
        self,
        text: str,
        origin: str = "<string>",
        *,
        base_dir: str | Path | None = None,
        include_testing: bool = False,
    ) -> Ruleset:
        """Check and compile DSL text.  ``base_dir`` lets it ``include`` files."""
        if not isinstance(text, str):
            raise TypeError(f"parse_ruleset() takes the DSL text as a str, not {type(text).__name__}")
        root = Path(base_dir) if base_dir is not None else None
        path = (root / "__main__.cramp") if root is not None else None
        source = SourceText(text, origin, path=path, root=root, limits=self.limits)
        return self._build(source, include_testing=include_testing)

    def load_ruleset(self, path_or_name: str | Path, *, include_testing: bool = False) -> Ruleset:
        """Load a ruleset from a ``.cramp`` file, or by the name a plugin gives it."""
        path = Path(path_or_name)
        if isinstance(path_or_name, Path) or path.suffix == ".cramp" or path.exists():
            try:
                text = self._read_ruleset_file(path)
                resolved = path.resolve()
            except FileNotFoundError:
                raise CramprulesError(f"{shorten(str(path))}: no such ruleset file") from None
            except IsADirectoryError:
                raise CramprulesError(f"{shorten(str(path))} is a directory; name a .cramp file") from None
            except _files.FileTooLarge:
                raise CramprulesError(
                    f"{shorten(str(path))}: the ruleset is larger than {self.limits.max_source_chars * 4:,} bytes"
                ) from None
            except (OSError, RuntimeError, _files.NotText) as exc:
                raise CramprulesError(
                    f"{shorten(str(path))}: cannot read the ruleset: {_reason(exc)}"
                ) from None
            source = SourceText(
                text, str(path_or_name), path=resolved, root=resolved.parent, limits=self.limits
            )
            return self._build(source, include_testing=include_testing)
        return self.ruleset(str(path_or_name), include_testing=include_testing)

    def ruleset(self, name: str, *, include_testing: bool = False) -> Ruleset:
        """The named ruleset, with its plugin extensions; built once, then cached."""
        key = (name, include_testing)
        with self._lock:
            if key in self._rulesets:
                return self._rulesets[key]
        source = self._named_source(name)
        ruleset = self._build(source, include_testing=include_testing)
        with self._lock:
            return self._rulesets.setdefault(key, ruleset)

    def default_ruleset(self, *, include_testing: bool = False) -> Ruleset:
        """The bundled leg-cramps ruleset, with every plugin's extensions."""
        return self.ruleset(DEFAULT_RULESET, include_testing=include_testing)

    # ------------------------------------------------------------ output and input

    def render(self, report: Report, format: str = "text", **options: object) -> str:
        """Render a report in any registered format (``text``, ``json``, ...)."""
        found = self._collected("cramprules_formats", "format", _plugins.callable_check)
        if format not in found:
            guess = closest(format, found)
            hint = f"did you mean '{guess}'?" if guess else "available: " + ", ".join(sorted(found))
            raise CramprulesError(f"unknown output format '{format}'; {hint}")
        function, plugin = found[format]
        accepted = {k: v for k, v in options.items() if _plugins.accepts_keyword(function, k)}
        try:
            text = function(report, **accepted)
        except CramprulesError:
            raise
        except Exception as exc:
            raise PluginError(
                f"format '{format}' of plugin '{plugin}' failed: {type(exc).__name__}: {exc}",
                plugin=plugin,
            ) from exc
        if not isinstance(text, str):
            raise PluginError(
                f"format '{format}' of plugin '{plugin}' returned {type(text).__name__}, not text",
                plugin=plugin,
            )
        return text

    def load_facts(self, text: str, format: str, *, max_bytes: int | None = None) -> list[dict[str, object]]:
        """Read fact sets from ``text`` in a loader's format (``json``, ``csv``, ...).

        Text longer than ``max_bytes`` (default: ``limits.max_fact_bytes``) is refused unread.

        A loader signals bad input with :class:`FactError`; any other exception,
        or a result that is not a list of fact mappings, is a :class:`PluginError`
        naming the plugin.
        """
        found = self._collected("cramprules_loaders", "loader", _plugins.loader_check)
        key = format.lstrip(".").lower()
        limit = self.limits.max_fact_bytes if max_bytes is None else max_bytes
        if len(text) > limit:
            raise FactError(f"the facts are larger than the limit of {limit:,} bytes", fact="")
        if key not in found:
            guess = closest(key, found)
            hint = f"did you mean '{guess}'?" if guess else "available: " + ", ".join(sorted(found))
            raise FactError(f"no loader reads '{shorten(format, 40)}' files; {hint}", fact="")
        loader, plugin = found[key]
        try:
            records = loader(text)
        except CramprulesError:
            raise
        except Exception as exc:
            raise PluginError(
                f"loader '{key}' of plugin '{plugin}' failed: {type(exc).__name__}: {exc}",
                plugin=plugin,
            ) from exc
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise PluginError(
                f"loader '{key}' of plugin '{plugin}' returned {type(records).__name__}, "
                "not a list of fact mappings",
                plugin=plugin,
            )
        out = []
        for i, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise PluginError(
                    f"loader '{key}' of plugin '{plugin}' gave record {i} as a "
                    f"{type(record).__name__}, not a mapping of facts",
                    plugin=plugin,
                )
            out.append(dict(record))
        return out

    def load_facts_file(self, path: str | Path) -> list[dict[str, object]]:
        """Read fact sets from a file, choosing the loader by its suffix.

        The longest registered suffix wins: ``patient.fhir.json`` goes to a
        ``fhir.json`` loader when there is one, else to ``json``.
        """
        path = Path(path)
        return self.load_facts(self.read_facts_text(path), self.loader_for(path))

    def read_facts_text(self, path: str | Path, max_bytes: int | None = None) -> str:
        """The text of a facts file, bounded before it is read by ``max_bytes``
        (default: ``limits.max_fact_bytes``)."""
        name = shorten(str(path))
        limit = self.limits.max_fact_bytes if max_bytes is None else max_bytes
        try:
            return _files.read_text(path, limit)
        except FileNotFoundError:
            raise FactError(f"{name}: no such facts file", fact="") from None
        except _files.FileTooLarge:
            raise FactError(
                f"{name}: the facts file is larger than the limit of {limit:,} bytes; "
                "split it, or raise Limits.max_fact_bytes",
                fact="",
            ) from None
        except (OSError, _files.NotText) as exc:
            raise FactError(f"{name}: cannot read the facts: {_reason(exc)}", fact="") from None

    def loader_for(self, path: str | Path) -> str:
        """The loader name for a file: its longest suffix that a loader registers."""
        suffixes = [s.lower() for s in Path(path).suffixes]
        loaders = self.loaders()
        for i in range(len(suffixes)):
            candidate = "".join(suffixes[i:]).lstrip(".")
            if candidate in loaders:
                return candidate
        return suffixes[-1].lstrip(".") if suffixes else "json"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a ruleset is built.

    Building makes hundreds of thousands of small objects that all stay
    alive; each full collection walks all of them again, which makes a build
    of 10,000 rules twice as slow.  Nothing built here is garbage yet, so
    nothing is lost by collecting afterwards.  The previous setting is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reason(exc: BaseException) -> str:
    """Why a file cannot be read, in a few words (no errno, no repeated path)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return shorten(str(exc))


def _substance_check(name: str, thing: object) -> str | None:
    return (
        None
        if isinstance(thing, Substance)
        else f"{type(thing).__name__} is not a cramprules.units.Substance"
    )
