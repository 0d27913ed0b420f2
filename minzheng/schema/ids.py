"""Global object IDs (Relay): ``base64("Person:42")``."""

from __future__ import annotations

import base64
import binascii

from minzheng.core.errors import ValidationFailed


def encode(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str, *, expect: str | None = None, field: str = "id") -> tuple[str, int]:
    """``(type name, integer key)``; raises :class:`ValidationFailed` naming ``field``."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed(field, "id.malformed", f"{field} is not a valid ID") from None
    if expect is not None and type_name != expect:
        raise ValidationFailed(field, "id.wrong_type", f"{field} is not a {expect} ID")
    return type_name, pk


def try_decode(global_id: str, expect: str | None = None) -> int | None:
    try:
        return decode(global_id, expect=expect)[1]
    except ValidationFailed:
        return None
