"""Personal data (ID numbers, phones, addresses) masked unless ``pii:read``."""

from __future__ import annotations

from typing import Any

import strawberry

from minzheng.core.idnumber import mask_id_number

PII_READ = "pii:read"


def mask(kind: str, value: str) -> str:
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        return value[:3] + "****" + value[-4:] if len(value) >= 7 else "*" * len(value)
    if kind == "address":
        return value[:6] + "****" if len(value) > 6 else "****"
    raise ValueError(kind)


def pii_field(kind: str, attr: str, description: str) -> Any:
    """A ``String`` field that reads ``root.<attr>`` and masks it unless the principal
    may read personal data; unmasked reads are noted for the audit log."""

    def resolve(root: Any, info: strawberry.Info) -> str | None:
        value = getattr(root, attr)
        if value is None:
            return None
        ctx = info.context
        if ctx.principal.can(PII_READ):
            ctx.pii_reads.add((type(root).__name__, str(root.id)))
            return value
        return mask(kind, value)

    return strawberry.field(resolver=resolve, description=description)
