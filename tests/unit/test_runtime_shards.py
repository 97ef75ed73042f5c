"""Which markets and tokens a streaming process follows: --venue and --shard keep a pair together."""

from __future__ import annotations

from pathlib import Path

import pytest

from hadron.app.runplan import stream_instruments
from hadron.arb.terms import load_arb_config
from hadron.errors import ConfigError
from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids

TICKERS = ["KXGOLD15M-26AUG102130-30", "KXGOLD15M-26AUG102145-45", "KXGOLD15M-26AUG102200-00"]


def test_a_shard_holds_whole_pairs(tmp_path: Path) -> None:
    (tmp_path / "pairs.toml").write_text(pairs_toml(TICKERS))
    arb = load_arb_config(tmp_path / "pairs.toml")
    seen_markets: list[str] = []
    seen_tokens: list[str] = []
    for index in range(2):
        streamed = stream_instruments(arb, "ingest", None, (index, 2), "pairs.toml")
        markets, tokens = streamed.get("kalshi", []), streamed.get("polymarket", [])
        for market in markets:
            _, yes, no = token_ids(market)
            assert yes in tokens and no in tokens  # a pair's legs and a market's two tokens together
        seen_markets += markets
        seen_tokens += tokens
    assert sorted(seen_markets) == sorted(TICKERS) and len(seen_tokens) == len(set(seen_tokens)) == 6
    assert stream_instruments(arb, "ingest", ["kalshi"], (0, 1), "pairs.toml") == {"kalshi": sorted(TICKERS)}


def test_shards_are_for_ingest_and_an_empty_share_says_so(tmp_path: Path) -> None:
    (tmp_path / "pairs.toml").write_text(pairs_toml(TICKERS[:1]))
    arb = load_arb_config(tmp_path / "pairs.toml")
    with pytest.raises(ConfigError, match="use --role ingest"):
        stream_instruments(arb, "all", None, (0, 2), "pairs.toml")
    with pytest.raises(ConfigError, match="use --role ingest"):
        stream_instruments(arb, "all", ["kalshi"], (0, 1), "pairs.toml")
    with pytest.raises(ConfigError, match=r"--shard 1/2 .* holds nothing to stream; use fewer shards"):
        stream_instruments(arb, "ingest", ["kalshi"], (1, 2), "pairs.toml")
