"""The plugin manager: built-in plugins, entry points, and what they give.

Built-ins are registered by name exactly like installed plugins, so any of
them can be disabled with ``-p no:NAME``.  Nothing happens at import time:
each :class:`~cramprules.Engine` makes its own manager when it first needs one.
"""

from __future__ import annotations

import importlib
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
    "json-facts": "cramprules.loaders.json",
}
"""Built-in plugins: the name used by ``-p no:NAME`` -> the module."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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
            pm.register(importlib.import_module(module), name)
        except ImportError as exc:  # pragma: no cover - a broken installation
            raise PluginError(f'Error importing built-in plugin "{name}": {exc}', plugin=name) from exc
    if autoload:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(f"an installed cramprules plugin failed to load: {exc}") from exc
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if pm.is_blocked(name):
            continue
        if pm.is_registered(plugin):
            continue
        if pm.get_plugin(name) is not None:
            name = f"{name}-{id(plugin):x}"
        pm.register(plugin, name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=getattr(exc, "plugin", None) and pm.get_name(exc.plugin)) from exc
    return pm


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
                    f"disable one with -p no:{impl.plugin_name}",
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
    """A registered plugin: its name, where it comes from and the hooks it implements."""

    name: str
    distribution: str | None
    version: str | None
    module: str | None
    hooks: tuple[str, ...]
    builtin: bool


def list_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin, built-ins first, then installed ones by name."""
    distributions = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = distributions.get(id(plugin))
        callers = pm.get_hookcallers(plugin) or []
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        out.append(
            PluginInfo(
                name=name,
                distribution=dist.project_name if dist is not None else None,
                version=dist.version if dist is not None else None,
                module=module,
                hooks=tuple(sorted(c.name for c in callers)),
                builtin=name in DEFAULT_PLUGINS,
            )
        )
    out.sort(key=lambda p: (not p.builtin, p.name))
    return out

