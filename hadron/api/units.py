"""Exact decimals of the model's fixed-point units: prices, sizes and money as :class:`~decimal.Decimal`."""

from __future__ import annotations

from decimal import Decimal

from hadron.model.fees import MONEY_SCALE
from hadron.model.units import PRICE_DECIMALS, SIZE_DECIMALS

_MONEY_DECIMALS = len(str(MONEY_SCALE)) - 1  # 10


def price_decimal(price: int) -> Decimal:
    """A price (int, 1/10,000 USD) as an exact :class:`~decimal.Decimal` in USD: ``4800`` →
    ``Decimal("0.4800")``."""
    return Decimal(price).scaleb(-PRICE_DECIMALS)


def size_decimal(size: int) -> Decimal:
    """A size (int, 1/1,000,000 contract or share) as an exact :class:`~decimal.Decimal`:
    ``46_020_000`` → ``Decimal("46.020000")``."""
    return Decimal(size).scaleb(-SIZE_DECIMALS)


def money_decimal(money: int) -> Decimal:
    """Money (int, 1/10,000,000,000 USD: opportunity cost, fees, net) as an exact
    :class:`~decimal.Decimal` in USD."""
    return Decimal(money).scaleb(-_MONEY_DECIMALS)
