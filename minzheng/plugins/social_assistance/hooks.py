"""The plugin's hook implementations: the only module the host imports when enabled."""

from __future__ import annotations

from minzheng.core.hookspecs import hookimpl


@hookimpl
def register_models() -> None:
    from minzheng.plugins.social_assistance import models  # noqa: F401
