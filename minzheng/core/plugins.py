"""Finding, choosing and loading plugins.

Each plugin package exposes a :class:`PluginInfo` under the ``minzheng.plugins``
entry-point group.  The descriptor is cheap to import; the plugin's hooks module
(and with it its models and schema) is imported only when the plugin is enabled.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

import pluggy

from minzheng.core import hookspecs

ENTRY_POINT_GROUP = "minzheng.plugins"


class PluginError(RuntimeError):
    """Start-up refused because of a plugin; the message is one line naming it."""


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's identity, readable without importing the plugin's code."""

    name: str
    title: str  # Chinese title: 社会救助
    version: str
    hooks: str  # dotted path of the module holding the hook implementations
    requires: tuple[str, ...] = ()
    #: plugins that, when also enabled, go first (hooks, demo data) — no hard dependency
    after: tuple[str, ...] = ()
    description: str = ""
    #: Alembic version directory (branch label = ``name``); None = no tables
    migrations: str | None = None

    @staticmethod
    def migrations_beside(module_file: str) -> str | None:
        path = Path(module_file).parent / "migrations" / "versions"
        return str(path) if path.is_dir() else None


@dataclass
class PluginStatus:
    info: PluginInfo
    enabled: bool
    reason: str = ""


@dataclass
class LoadedPlugins:
    """The plugin manager plus what the host needs to know about each plugin."""

    manager: pluggy.PluginManager
    enabled: list[PluginInfo] = field(default_factory=list)
    installed: list[PluginStatus] = field(default_factory=list)

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def names(self) -> list[str]:
        return [p.name for p in self.enabled]

    def results(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook and return ``(plugin name, result)`` for each non-None answer,
        in plugin dependency order."""
        caller = getattr(self.manager.hook, hook_name)
        out = []
        for impl in caller.get_hookimpls():
            value = impl.function(**kwargs)
            if value is not None:
                out.append((self.manager.get_name(impl.plugin) or "?", value))
        return out

    async def aresults(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        out = []
        for name, value in self.results(hook_name, **kwargs):
            if inspect.isawaitable(value):
                value = await value
            if value is not None:
                out.append((name, value))
        return out


def discover() -> list[PluginInfo]:
    """Every installed plugin's descriptor, from the entry-point group."""
    found: dict[str, PluginInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            info = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r}: descriptor failed to import: {exc}") from exc
        if not isinstance(info, PluginInfo):
            raise PluginError(f"plugin {ep.name!r}: entry point is not a PluginInfo")
        found[info.name] = info
    return sorted(found.values(), key=lambda i: i.name)


def resolve(
    installed: Sequence[PluginInfo], wanted: Sequence[str] | Literal["all"]
) -> list[PluginStatus]:
    """Decide which plugins run. Raises :class:`PluginError` for an unknown name
    or a dependency that is not enabled; returns statuses in dependency order."""
    by_name = {i.name: i for i in installed}
    if wanted == "all":
        chosen = list(by_name)
    else:
        chosen = list(dict.fromkeys(wanted))
        for name in chosen:
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise PluginError(f"plugin {name!r}: not installed (installed: {known})")
    for name in chosen:
        for dep in by_name[name].requires:
            if dep not in chosen:
                why = "not installed" if dep not in by_name else "not enabled"
                raise PluginError(f"plugin {name!r}: requires plugin {dep!r}, which is {why}")
    order = _topological([by_name[n] for n in chosen])
    statuses = [PluginStatus(by_name[n], True) for n in order]
    for info in installed:
        if info.name not in chosen:
            statuses.append(PluginStatus(info, False, "not listed in MINZHENG_PLUGINS"))
    return statuses


def describe(
    installed: Sequence[PluginInfo], wanted: Sequence[str] | Literal["all"]
) -> list[PluginStatus]:
    """Every installed plugin with whether it would run and, if not, why — never raises
    (for ``minzheng plugins``).  Names in ``wanted`` that are not installed are listed too."""
    by_name = {i.name: i for i in installed}
    chosen = set(by_name) if wanted == "all" else set(wanted)
    out = []
    for info in installed:
        if info.name not in chosen:
            out.append(PluginStatus(info, False, "not listed in MINZHENG_PLUGINS"))
            continue
        missing = [d for d in info.requires if d not in chosen or d not in by_name]
        if missing:
            out.append(PluginStatus(info, False, f"requires {', '.join(missing)}, not enabled"))
        else:
            out.append(PluginStatus(info, True))
    for name in sorted(chosen - set(by_name)):
        ghost = PluginInfo(name=name, title="?", version="?", hooks="")
        out.append(PluginStatus(ghost, False, "listed in MINZHENG_PLUGINS but not installed"))
    return out


def _topological(infos: Iterable[PluginInfo]) -> list[str]:
    infos = list(infos)
    names = {i.name for i in infos}
    deps = {i.name: [d for d in (*i.requires, *i.after) if d in names] for i in infos}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in order:
            return
        if n in visiting:
            raise PluginError(f"plugin {n!r}: circular dependency")
        visiting.add(n)
        for d in sorted(deps[n]):
            visit(d)
        visiting.discard(n)
        order.append(n)

    for n in sorted(names):
        visit(n)
    return order


def load(
    wanted: Sequence[str] | Literal["all"],
    *,
    extra: Sequence[PluginInfo] = (),
) -> LoadedPlugins:
    """Resolve, import and register the enabled plugins; check every hook is known.

    ``extra`` adds descriptors that are not installed as entry points (tests).
    """
    installed = [*discover(), *extra]
    names = [i.name for i in installed]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise PluginError(f"plugin {sorted(dupes)[0]!r}: installed twice")
    statuses = resolve(installed, wanted)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs.Spec)
    enabled: list[PluginInfo] = []
    for status in statuses:
        if not status.enabled:
            continue
        info = status.info
        try:
            module = importlib.import_module(info.hooks)
        except Exception as exc:
            raise PluginError(
                f"plugin {info.name!r}: failed to import {info.hooks}: {type(exc).__name__}: {exc}"
            ) from exc
        manager.register(module, name=info.name)
        enabled.append(info)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        plugin = manager.get_name(exc.plugin) if exc.plugin else "?"
        raise PluginError(f"plugin {plugin!r}: {exc}") from exc
    loaded = LoadedPlugins(manager=manager, enabled=enabled, installed=statuses)
    manager.hook.register_models()
    return loaded


def installed_migration_dirs(extra: Sequence[PluginInfo] = ()) -> dict[str, str]:
    """Alembic version directory of every *installed* plugin, enabled or not."""
    return {i.name: i.migrations for i in [*discover(), *extra] if i.migrations}
