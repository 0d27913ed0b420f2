"""Small strawberry schemas run by the platform's executor or by graphql-core's
own, with direct resolvers installed as the gateway installs them: the
executor's tests compare the two."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from minzheng.schema import direct
from minzheng.schema.executor import Executor


def make_schema(query: type, fast: bool, extensions: list[Any] | None = None) -> strawberry.Schema:
    """``fast``: the platform's executor; otherwise graphql-core's."""
    schema = strawberry.Schema(
        query=query,
        extensions=extensions or [],
        execution_context_class=Executor if fast else StrawberryGraphQLCoreExecutionContext,
    )
    direct.install(schema)
    return schema
