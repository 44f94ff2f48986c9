"""Money is Decimal in code, with two decimals; the database's own type is met at one boundary."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """A database or input value as an exact amount. Floats go through their shortest repr, so the
    REAL 89.99 becomes Decimal('89.99'), not its binary expansion."""
    if isinstance(value, Decimal):
        return value.quantize(CENT, ROUND_HALF_UP)
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def line_amount(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)


def total(amounts: list[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0)).quantize(CENT, ROUND_HALF_UP)
