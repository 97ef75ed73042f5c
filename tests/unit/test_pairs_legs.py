"""Pairs as two venue-neutral legs, read through the ``<venue>_<field>`` convention."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hadron.arb.terms import load_arb_config
from hadron.errors import ConfigError
from hadron.match.pairs import Pair, PairLeg, read_pairs, review, update_pairs, write_pairs
from tests import toyvenue

KP = """[[pair]]
id = "gold"
kalshi_event = "KXGOLD-26"
kalshi_market = "KXGOLD-26-T1"
polymarket_event = "gold"
polymarket_market = "0xabc"
polymarket_yes_token = "111"
polymarket_no_token = "222"
relation = "complement"
confidence = 0.9
status = "approved"
kalshi_fee_multiplier = "1"
polymarket_fee_rate = "0.04"
polymarket_min_size = "5"
"""

TOY = """# a Kalshi market and its Toy copy
[[pair]]
kalshi_market = "KXGOLD-26-T1"
toy_market = "TOYGOLD"  # Toy's market id
toy_yes_token = "TY"
toy_no_token = "TN"
relation = "identity"
confidence = 1.0
status = "proposed"
kalshi_fee_multiplier = "1"
"""


@pytest.fixture
def toy() -> Iterator[None]:
    toyvenue.register()
    yield
    toyvenue.unregister()


def test_kalshi_polymarket_fields_become_two_legs(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text(KP)
    (pair,) = read_pairs(path)
    assert pair.legs == (
        PairLeg(venue="kalshi", event="KXGOLD-26", market="KXGOLD-26-T1", yes="KXGOLD-26-T1",
                fee_params={"multiplier": "1"}),
        PairLeg(venue="polymarket", event="gold", market="0xabc", yes="111", no="222",
                fee_params={"rate": "0.04"}, min_size=5_000_000),
    )  # fmt: skip
    config = load_arb_config(path)
    directions = {key.split("/")[-1] for key in _keys(config)}
    assert "kalshi_yes+polymarket_yes" in directions  # a complement pair flips the Polymarket labels


def _keys(config: object) -> set[str]:
    from hadron.arb.detector import ArbDetector
    from hadron.book.manager import BookManager

    detector = ArbDetector.from_config(BookManager(), config)  # type: ignore[arg-type]
    return {c.key for c in detector.candidates()}


def test_a_registered_third_venue_pairs_through_its_own_prefix(tmp_path: Path, toy: None) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text(TOY)
    (pair,) = read_pairs(path)
    assert pair.id == "KXGOLD-26-T1~TOYGOLD" and [leg.venue for leg in pair.legs] == ["kalshi", "toy"]
    assert pair.legs[1] == PairLeg(venue="toy", market="TOYGOLD", yes="TY", no="TN")
    update_pairs(path, {0: review(pair, "approved", "ana")})
    text = path.read_text()
    assert text.startswith(TOY.split("status")[0]) and 'status = "approved"' in text  # the rest as written
    with pytest.raises(ConfigError, match="toy_fee_per_share"):
        load_arb_config(path)  # approved without Toy's fee term
    path.write_text(path.read_text() + 'toy_fee_per_share = "0.01"\n')
    config = load_arb_config(path)
    assert config.terms[pair.id].legs[1].fee.fee([(5000, 3_000_000)]) == 3 * 10**8  # $0.03
    assert _keys(config) >= {f"{pair.id}/cross/kalshi_yes+toy_no", "TOYGOLD/toy_outcomes"}


def test_write_pairs_keeps_a_third_venues_fields(tmp_path: Path, toy: None) -> None:
    pair = Pair(relation="identity", confidence=1.0, kalshi_market="K-1",
                venue_fields={"toy_market": "M", "toy_yes_token": "Y"})  # fmt: skip
    path = tmp_path / "pairs.toml"
    write_pairs(path, [pair])
    (back,) = read_pairs(path)
    assert back.legs[1] == PairLeg(venue="toy", market="M", yes="Y") and back.id == "K-1~M"
