"""Toy's taker fee: a flat amount per share bought, whatever the price."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from hadron.errors import ConfigError
from hadron.model.events import Level
from hadron.model.fees import MONEY_SCALE
from hadron.model.units import SIZE_SCALE


class ToyFlatFee:
    """``per_share`` money units per whole share (a :class:`~hadron.model.fees.FeeModel`); an
    order's fee is exact (``per_share × Σ size / SIZE_SCALE``, rounded up to a money unit)."""

    def __init__(self, per_share: int) -> None:
        self.per_share = per_share

    def fee(self, fills: Sequence[Level]) -> int:
        """The order's fee, money units."""
        shares = sum(size for _, size in fills)
        return -(-self.per_share * shares // SIZE_SCALE)


def fee_model(params: Mapping[str, str]) -> ToyFlatFee:
    """Toy's fee model from ``{"per_share": "<USD per share>"}``.

    Raises:
        ConfigError: missing, negative or not a decimal.
    """
    text = params.get("per_share")
    if text is None:
        raise ConfigError("toy fee: per_share is missing (toy_fee_per_share in the pairs file)")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"toy fee: per_share {text!r} is not a decimal") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"toy fee: per_share {text!r} must be ≥ 0")
    return ToyFlatFee(int(amount * MONEY_SCALE))
