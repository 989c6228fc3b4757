"""The plugin manager: built-in plugins, entry points, and what they give.

Built-ins are registered by name exactly like installed plugins, so any of
them can be disabled with ``-p no:NAME``.  Nothing happens at import time:
each :class:`~cramprules.Engine` makes its own manager when it first needs one.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import keyword
import os
import re
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, cast
from typing import Any as AnyType

import attrs
import pluggy

from cramprules import hookspecs
from cramprules.exceptions import FactError, PluginError
from cramprules.facts import coercer

if TYPE_CHECKING:
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset

__all__ = [
    "AUTOLOAD_ENV",
    "DEFAULT_PLUGINS",
    "PluginInfo",
    "PluginResult",
    "accepts_keyword",
    "autoload_disabled",
    "call",
    "callable_check",
    "collect",
    "derive_facts",
    "fragments",
    "identifier_check",
    "list_plugins",
    "loader_check",
    "make_plugin_manager",
    "notify",
    "ruleset_check",
]

AUTOLOAD_ENV = "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD"
ENTRY_POINT_GROUP = "cramprules"

DEFAULT_PLUGINS: Mapping[str, str] = {
    "bundled": "cramprules.bundled",
    "text": "cramprules.formats.text",
    "json": "cramprules.formats.json",
    "markdown": "cramprules.formats.markdown",
    "html": "cramprules.formats.html",
    "json-facts": "cramprules.loaders.json",
    "yaml-facts": "cramprules.loaders.yaml",
    "csv-facts": "cramprules.loaders.csv",
    "toml-facts": "cramprules.loaders.toml",
    "units": "cramprules.ucum",
}
"""Built-in plugins: the name used by ``-p no:NAME`` -> the module."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SUFFIX = re.compile(r"[a-z0-9][a-z0-9_+-]*(\.[a-z0-9][a-z0-9_+-]*)*\Z")


def autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def make_plugin_manager(
    plugins: Iterable[object] = (),
    *,
    autoload: bool = True,
    disabled: Iterable[str] = (),
) -> pluggy.PluginManager:
    """A fresh manager with the built-ins, installed plugins and ``plugins``.

    ``disabled`` names plugins to block before anything loads (``-p no:NAME``).
    """
    pm = _Manager("cramprules")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    for name, module in DEFAULT_PLUGINS.items():
        if pm.is_blocked(name):
            continue
        try:
            _register(pm, importlib.import_module(module), name)
        except ImportError as exc:  # pragma: no cover - a broken installation
            raise PluginError(f'Error importing built-in plugin "{name}": {exc}', plugin=name) from exc
    if autoload:
        _load_entrypoints(pm)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if pm.is_blocked(name):
            continue
        if pm.is_registered(plugin):
            continue
        if pm.get_plugin(name) is not None:
            name = f"{name}-{id(plugin):x}"
        _register(pm, plugin, name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(
            f"plugin '{name}' implements a hook that cramprules does not have: {exc}; "
            f"the hooks are: {', '.join(sorted(_hook_names()))}",
            plugin=name,
        ) from exc
    return pm


def _hook_names() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith("cramprules_")]


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register one plugin; a malformed hook implementation names the plugin."""
    try:
        pm.register(plugin, name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin '{name}' cannot be registered: {exc}", plugin=name) from exc
    except ValueError as exc:
        raise PluginError(f"plugin '{name}' cannot be registered: {exc}", plugin=name) from exc


def _distribution(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    """Load installed plugins one by one, so a failure names its plugin.

    Loading goes through pluggy (which records each plugin's distribution);
    an entry point whose name is already taken is an error, never a silent skip.
    """
    origins: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name):
            continue
        if pm.has_plugin(ep.name):
            other = origins.get(ep.name) or (
                "cramprules (a built-in plugin)" if ep.name in DEFAULT_PLUGINS else "another plugin"
            )
            raise PluginError(
                f"two plugins are called '{ep.name}': the one from {_distribution(ep)} "
                f"and the one from {other}; a plugin's entry-point name must be unique",
                plugin=ep.name,
            )
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, ep.name)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f'Error loading plugin "{ep.name}" ({ep.value}, from {_distribution(ep)}): '
                f"{type(exc).__name__}: {exc}",
                plugin=ep.name,
            ) from exc
        origins[ep.name] = _distribution(ep)


@attrs.frozen
class PluginResult:
    """One plugin's result from a hook call: what it gave, and who gave it.

    Errors about a result must name the plugin; pluggy returns bare results,
    so :func:`call` pairs them with their plugins.
    """

    plugin: str
    value: object


@attrs.define
class _Call:
    """What happened inside one hook call: who returned what, and who raised.

    The observers :class:`_Manager` puts around each implementation write
    here; entries are in the order pluggy ran them (implementations first,
    then wrappers from the innermost out).
    """

    caller: pluggy.HookCaller
    gave: list[tuple[str, object, bool]] = attrs.Factory(list)
    raised: list[tuple[str, BaseException]] = attrs.Factory(list)

    def giver(self, value: object, used: set[int]) -> str | None:
        """The plugin whose implementation returned ``value``, else the innermost wrapper that added it."""
        for i, (plugin, given, wrapper) in enumerate(self.gave):
            if wrapper:
                if isinstance(given, list) and any(item is value for item in given):
                    return plugin
            elif i not in used and given is value:
                used.add(i)
                return plugin
        return None

    def culprit(self, exc: BaseException) -> str | None:
        """The first plugin that raised ``exc`` (a wrapper passing it on did not)."""
        for plugin, raised in self.raised:
            if raised is exc:
                return plugin
        return None


_CURRENT: ContextVar[_Call | None] = ContextVar("cramprules_hook_call", default=None)
"""The hook call under way in this thread or task, so observers can report to it."""


def _observed(caller: pluggy.HookCaller, impl: pluggy.HookImpl) -> Callable[..., object]:
    """``impl``'s function, reporting its result or exception to the hook call under way.

    The result and the exception pass through unchanged, so pluggy and every
    wrapper see exactly what the plugin did.
    """
    function = impl.function
    plugin = impl.plugin_name
    if impl.wrapper or impl.hookwrapper:
        new_style = bool(impl.wrapper)

        @functools.wraps(function)
        def wrapper(*args: object, **kwargs: object) -> Generator[object, object, object]:
            call = _CURRENT.get()
            if call is not None and call.caller is not caller:
                call = None
            try:
                # pluggy checked at registration that a wrapper is a generator function.
                result = yield from cast("Generator[object, object, object]", function(*args, **kwargs))
            except Exception as exc:
                if call is not None:
                    call.raised.append((plugin, exc))
                raise
            if call is not None and new_style:
                call.gave.append((plugin, result, True))
            return result

        return wrapper

    @functools.wraps(function)
    def implementation(*args: object, **kwargs: object) -> object:
        try:
            result = function(*args, **kwargs)
        except Exception as exc:
            call = _CURRENT.get()
            if call is not None and call.caller is caller:
                call.raised.append((plugin, exc))
            raise
        if result is not None:  # pluggy drops None; there is nothing to attribute
            call = _CURRENT.get()
            if call is not None and call.caller is caller:
                call.gave.append((plugin, result, False))
        return result

    return implementation


class _Manager(pluggy.PluginManager):
    """A pluggy manager that can say which plugin gave each result of a hook call.

    pluggy returns a hook's results without their plugins (pytest-dev/pluggy
    #235) and has no per-implementation wrapper; so each implementation
    registered here is observed: its function reports to the call under way
    (:func:`call`) and passes everything through unchanged.  Hooks still run
    through ``pm.hook``, so ordering, wrappers and hook-call monitoring are
    pluggy's own.
    """

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    impl.function = _observed(caller, impl)  # type: ignore[misc]
        return registered


def _suspects(caller: pluggy.HookCaller) -> list[str]:
    """Who to name when no observer saw the culprit: the hook's wrappers, else all its plugins.

    Only pluggy's own complaints (such as a wrapper that did not yield) and
    what an old-style ``hookwrapper`` forces into the results get here; with
    one such wrapper, the usual case, the name is exact.
    """
    impls = caller.get_hookimpls()
    wrappers = [i.plugin_name for i in reversed(impls) if i.wrapper or i.hookwrapper]
    return wrappers or [i.plugin_name for i in reversed(impls)] or ["?"]


def _either(names: list[str]) -> str:
    """Several suspects in one message: ``a' or 'b`` reads well inside the quotes."""
    return "' or '".join(names)


def call(pm: pluggy.PluginManager, hook: str, **kwargs: object) -> list[PluginResult]:
    """Call ``hook`` through pluggy; each result that is not ``None``, with its plugin.

    The one place cramprules calls a hook.  A plugin that raises becomes a
    :class:`PluginError` naming it; the order is pluggy's.
    """
    caller = getattr(pm.hook, hook)
    record = _Call(caller)
    token = _CURRENT.set(record)
    try:
        results = caller(**kwargs)
    except Exception as exc:
        culprits = [name] if (name := record.culprit(exc)) else _suspects(caller)
        raise PluginError(
            f"plugin '{_either(culprits)}' failed in {hook}: {type(exc).__name__}: {exc}",
            plugin=culprits[0],
        ) from exc
    finally:
        _CURRENT.reset(token)
    if caller.spec is not None and caller.spec.opts.get("firstresult"):
        if results is None:
            return []
        return [PluginResult(record.giver(results, set()) or _either(_suspects(caller)), results)]
    if not isinstance(results, list):
        returned = [p for p, given, wrapper in reversed(record.gave) if wrapper and given is results]
        culprits = returned[:1] or _suspects(caller)
        raise PluginError(
            f"plugin '{_either(culprits)}' returned {type(results).__name__} from {hook} as the list of "
            "results; a hook wrapper must return the list it was given, or another list",
            plugin=culprits[0],
        )
    if not results:
        return []
    used: set[int] = set()
    return [
        PluginResult(record.giver(result, used) or _either(_suspects(caller)), result)
        for result in results
        if result is not None
    ]


def collect(
    pm: pluggy.PluginManager,
    hook: str,
    *,
    what: str,
    check: Callable[[str, object], str | None],
    **kwargs: object,
) -> dict[str, tuple[AnyType, str]]:
    """Merge the ``{name: thing}`` mappings a hook returns, remembering who gave what.

    Each plugin's answer is checked: not a mapping, a bad entry (``check``
    returns a complaint) or a name two plugins both give is a PluginError.
    """
    merged: dict[str, tuple[AnyType, str]] = {}
    for answer in call(pm, hook, **kwargs):
        plugin, result = answer.plugin, answer.value
        if not isinstance(result, Mapping):
            raise PluginError(
                f"plugin '{plugin}' returned {type(result).__name__} from {hook}; "
                f"it must return a mapping of {what} names",
                plugin=plugin,
            )
        for name, thing in result.items():
            complaint = check(name, thing) if isinstance(name, str) else "its name is not a text"
            if complaint:
                raise PluginError(
                    f"plugin '{plugin}' gave {what} {name!r} from {hook}, but {complaint}",
                    plugin=plugin,
                )
            if name in merged:
                other = merged[name][1]
                raise PluginError(
                    f"plugins '{other}' and '{plugin}' both provide the {what} '{name}'; "
                    f"disable one of them with -p no:{other} or -p no:{plugin}",
                    plugin=plugin,
                )
            merged[name] = (thing, plugin)
    return merged


def fragments(pm: pluggy.PluginManager, ruleset: str) -> list[tuple[str, Sequence[str | Path]]]:
    """Each plugin's DSL fragments for ``ruleset`` (``cramprules_extend``), checked."""
    out: list[tuple[str, Sequence[str | Path]]] = []
    for answer in call(pm, "cramprules_extend", ruleset=ruleset):
        plugin, result = answer.plugin, answer.value
        if isinstance(result, (str, Path)) or not isinstance(result, Sequence):
            raise PluginError(
                f"plugin '{plugin}' returned {type(result).__name__} from "
                "cramprules_extend; it must return a list of DSL texts or Paths",
                plugin=plugin,
            )
        for fragment in result:
            if not isinstance(fragment, (str, Path)):
                raise PluginError(
                    f"plugin '{plugin}' extends '{ruleset}' with a "
                    f"{type(fragment).__name__}; fragments are DSL texts or Paths",
                    plugin=plugin,
                )
        out.append((plugin, result))
    return out


def derive_facts(
    pm: pluggy.PluginManager, facts: Mapping[str, object], ruleset: Ruleset
) -> dict[str, object]:
    """The facts the plugins derive (``cramprules_derive_facts``), checked against ``ruleset``.

    Where two plugins derive the same fact, the first that gives a value wins.
    """
    merged: dict[str, object] = {}
    for answer in call(pm, "cramprules_derive_facts", facts=facts, ruleset=ruleset):
        plugin, result = answer.plugin, answer.value
        if not isinstance(result, Mapping):
            raise PluginError(
                f"plugin '{plugin}' returned {type(result).__name__} from "
                "cramprules_derive_facts; it must return a mapping of facts or None",
                plugin=plugin,
            )
        unknown = [k for k in result if k not in ruleset.facts]
        if unknown:
            raise PluginError(
                f"plugin '{plugin}' derived {', '.join(map(repr, unknown))}, "
                f"which ruleset '{ruleset.name}' does not declare",
                plugin=plugin,
            )
        for name, value in result.items():
            try:
                coercer(ruleset.facts[name])(value)
            except FactError as exc:
                raise PluginError(
                    f"plugin '{plugin}' derived a bad value for '{name}': {exc}",
                    plugin=plugin,
                ) from None
            if merged.get(name) is None:
                merged[name] = value
    return merged


def notify(pm: pluggy.PluginManager, report: Report) -> None:
    """Show a finished report to the plugins (``cramprules_report``); their results are ignored."""
    call(pm, "cramprules_report", report=report)


def callable_check(name: str, thing: object) -> str | None:
    return None if callable(thing) else f"{type(thing).__name__} is not callable"


def identifier_check(name: str, thing: object) -> str | None:
    if not _IDENT.match(name) or keyword.iskeyword(name):
        return "its name is not a valid identifier"
    return callable_check(name, thing)


def loader_check(name: str, thing: object) -> str | None:
    if not _SUFFIX.match(name):
        return "a loader's name is a file suffix in lower case without the leading dot, such as 'json' or 'fhir.json'"
    return callable_check(name, thing)


def ruleset_check(name: str, thing: object) -> str | None:
    if not _IDENT.match(name):
        return "its name is not a valid identifier"
    if not isinstance(thing, (str, Path)):
        return f"it is a {type(thing).__name__}, not DSL text or a Path"
    return None


def accepts_keyword(function: Callable[..., object], name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


@attrs.frozen
class PluginInfo:
    """A plugin: its name, where it comes from and the hooks it implements.

    ``disabled`` plugins (``-p no:NAME``) were never loaded: they have no hooks.
    """

    name: str
    distribution: str | None
    version: str | None
    module: str | None
    hooks: tuple[str, ...]
    builtin: bool
    disabled: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "hooks": list(self.hooks),
            "builtin": self.builtin,
            "disabled": self.disabled,
        }


def list_plugins(pm: pluggy.PluginManager, *, include_disabled: bool = False) -> list[PluginInfo]:
    """Every registered plugin, built-ins first, then the others by name.

    Built-ins come from the ``cramprules`` distribution.  With
    ``include_disabled``, blocked plugins are listed too, their distribution
    read from the entry-point metadata without importing them.
    """
    from cramprules._version import __version__

    distributions = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        builtin = name in DEFAULT_PLUGINS
        if plugin is None:
            if not include_disabled:
                continue
            module, dist_name, version = _blocked_origin(name)
            out.append(PluginInfo(name, dist_name, version, module, (), builtin, disabled=True))
            continue
        dist = distributions.get(id(plugin))
        callers = pm.get_hookcallers(plugin) or []
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        if dist is not None:
            dist_name, version = dist.project_name, dist.version
        elif builtin:
            dist_name, version = "cramprules", __version__
        else:
            dist_name = version = None
        out.append(
            PluginInfo(
                name=name,
                distribution=dist_name,
                version=version,
                module=module,
                hooks=tuple(sorted(c.name for c in callers)),
                builtin=builtin,
            )
        )
    out.sort(key=lambda p: (not p.builtin, p.name))
    return out


def _blocked_origin(name: str) -> tuple[str | None, str | None, str | None]:
    """Module, distribution and version of a plugin that was not loaded."""
    if name in DEFAULT_PLUGINS:
        from cramprules._version import __version__

        return DEFAULT_PLUGINS[name], "cramprules", __version__
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            dist = getattr(ep, "dist", None)
            return ep.module, dist.name if dist else None, dist.version if dist else None
    return None, None, None
