"""The composed core types (``Person``, ``Household``, ``Region``,
``RegionStatistics``, ``Query``, ``Mutation``), set by the builder.

Refer to them lazily from any module, core or plugin, so fields that plugins
add are visible everywhere::

    Person = Annotated["Person", strawberry.lazy("minzheng.schema.composed")]
"""

from typing import Any

Person: Any = None
Household: Any = None
Region: Any = None
RegionStatistics: Any = None
#: Node type name → name of the request dataloader that fetches it by key
NODE_LOADERS: dict[str, str] = {}
