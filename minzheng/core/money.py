"""Money is integer fen (分) everywhere; never binary floats."""

from __future__ import annotations

from decimal import Decimal


def yuan(fen: int) -> Decimal:
    """``12345`` fen → ``Decimal('123.45')`` yuan, for display and export."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))
