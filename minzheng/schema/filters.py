"""Shared pieces of list filters."""

from __future__ import annotations

from graphql import GraphQLError

from minzheng.core import divisions
from minzheng.schema.context import current


def region_bounds(code: str, path: str) -> tuple[str, str]:
    """The code range of division ``code`` given as a filter (any level), or a
    ``BAD_REGION_CODE`` error naming ``path``.

    Within a request the range is narrowed to the reader's region.  The scope
    filter applies anyway, so the rows are the same; but SQLite walks one range
    of an index, the filter's (see :mod:`minzheng.core.scope`), and a filter
    wider than the reader's region would walk the whole of it.  A filter
    outside the region gives an empty range."""
    try:
        lo, hi = divisions.parse(code).bounds
    except divisions.InvalidRegionCode:
        raise GraphQLError(
            f"{path}: {code!r} is not a division code",
            extensions={"code": "BAD_REGION_CODE", "field": path},
        ) from None
    ctx = current.get(None)
    region = getattr(getattr(ctx, "principal", None), "region", "")
    if region:
        rlo, rhi = divisions.DivisionCode(region).bounds
        lo, hi = max(lo, rlo), min(hi, rhi)
    return lo, hi
