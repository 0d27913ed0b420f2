"""Fixtures of the plugin's tests (the shared ones live in the repository's conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def payroll_in_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Compose core payroll into the graph if the builder does not list it yet."""
    from minzheng.schema import builder
    from minzheng.schema import payroll as payroll_schema

    if not any(c is payroll_schema.contribution for _n, c in builder.CORE_PARTS):
        monkeypatch.setattr(
            builder, "CORE_PARTS", [*builder.CORE_PARTS, ("payroll", payroll_schema.contribution)]
        )
    yield
