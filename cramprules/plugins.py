"""The plugin manager: built-in plugins, entry points, and what they give.

Built-ins are registered by name exactly like installed plugins, so any of
them can be disabled with ``-p no:NAME``.  Nothing happens at import time:
each :class:`~cramprules.Engine` makes its own manager when it first needs one.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import keyword
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any as AnyType

import attrs
import pluggy

from cramprules import hookspecs
from cramprules.exceptions import PluginError

__all__ = [
    "AUTOLOAD_ENV",
    "DEFAULT_PLUGINS",
    "PluginInfo",
    "collect",
    "list_plugins",
    "make_plugin_manager",
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
    pm = pluggy.PluginManager("cramprules")
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


def _call(impl: pluggy.HookImpl, hook: str, kwargs: Mapping[str, object]) -> object:
    args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
    try:
        return impl.function(**args)
    except Exception as exc:
        raise PluginError(
            f"plugin '{impl.plugin_name}' failed in {hook}: {type(exc).__name__}: {exc}",
            plugin=impl.plugin_name,
        ) from exc


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
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):
        result = _call(impl, hook, kwargs)
        if result is None:
            continue
        if not isinstance(result, Mapping):
            raise PluginError(
                f"plugin '{impl.plugin_name}' returned {type(result).__name__} from {hook}; "
                f"it must return a mapping of {what} names",
                plugin=impl.plugin_name,
            )
        for name, thing in result.items():
            complaint = check(name, thing) if isinstance(name, str) else "its name is not a text"
            if complaint:
                raise PluginError(
                    f"plugin '{impl.plugin_name}' gave {what} {name!r} from {hook}, but {complaint}",
                    plugin=impl.plugin_name,
                )
            if name in merged:
                other = merged[name][1]
                raise PluginError(
                    f"plugins '{other}' and '{impl.plugin_name}' both provide the {what} '{name}'; "
                    f"disable one of them with -p no:{other} or -p no:{impl.plugin_name}",
                    plugin=impl.plugin_name,
                )
            merged[name] = (thing, impl.plugin_name)
    return merged


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
