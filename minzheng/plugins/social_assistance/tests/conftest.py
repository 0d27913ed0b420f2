"""The project's shared fixtures (real migrated databases, the app over HTTP, tokens)
for the plugin's own tests, plus helpers to drive 社会救助 through the graph."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[4] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from conftest import (  # noqa: E402, F401
    EXAMPLE,
    Api,
    api,
    db_url,
    make_api,
    pg_template,
    settings_for,
    sqlite_template,
    sqlite_url,
)


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
