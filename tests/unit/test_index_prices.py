"""Reference prices (issue 21, item 3): Kalshi ``cfbenchmarks_value`` and ``pyth_value`` → IndexPrice.

The spec's own examples (Kalshi AsyncAPI ``cfbenchmarksValue``, ``pythValue``) give exact ints;
../shared/data holds no real index frame (see its SOURCES.md), so the spec examples are the
captured truth here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hadron.book.manager import BookManager
from hadron.bus.base import decode_envelope, encode_envelope, make_envelope, subject_for
from hadron.config import load_config
from hadron.errors import ConfigError, DecodeError
from hadron.model.events import IndexPrice
from hadron.model.units import INDEX_SCALE, format_index_value, parse_index_value
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.fake_index import STARTS, IndexWalk
from hadron.venues.kalshi.indices import index_subscriptions, references, underlying_of
from hadron.venues.kalshi.messages import FRAME_DECODER, KalshiCfbenchmarksValue, KalshiPythValue
from hadron.venues.kalshi.normalize import normalize_index
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import KALSHI_ASYNCAPI, ListDeadLetter

SPEC = KALSHI_ASYNCAPI


def spec_example(name: str) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    if not SPEC.is_file():
        pytest.skip("Kalshi AsyncAPI spec not available")
    payload: dict[str, Any] = yaml.safe_load(SPEC.read_text())["components"]["messages"][name]["examples"][0]["payload"]
    return payload


def test_index_values_parse_exactly() -> None:
    assert parse_index_value("68000.12") == 6_800_012_000_000
    assert parse_index_value("2365.12345000") == 236_512_345_000
    assert parse_index_value("0.00000001") == 1
    assert parse_index_value("-37.63") == -3_763_000_000  # an index may go below zero
    assert format_index_value(236_512_345_000) == "2365.12345"
    assert format_index_value(6_800_012_000_000) == "68000.12"
    assert INDEX_SCALE == 100_000_000
    for bad in ("2365.123456789", "1e5", "", "abc", "9" * 12 + ".0", "1" * 70, "NaN"):
        with pytest.raises(DecodeError):
            parse_index_value(bad)


def test_spec_examples_normalize_to_exact_ints() -> None:
    cf = FRAME_DECODER.decode(json.dumps(spec_example("cfbenchmarksValue")))
    pyth = FRAME_DECODER.decode(json.dumps(spec_example("pythValue")))
    assert isinstance(cf, KalshiCfbenchmarksValue) and isinstance(pyth, KalshiPythValue)
    assert normalize_index(cf, 5) == IndexPrice(
        "kalshi:index:BRTI", "BRTI", "cfbenchmarks", "kalshi", 6_800_012_000_000, 1_710_000_000_123_000_000, 5,
        6_800_012_000_000,
    )  # fmt: skip
    assert normalize_index(pyth, 5) == IndexPrice(
        "kalshi:index:Metal.XAU/USD", "Metal.XAU/USD", "pyth", "kalshi", 236_512_345_000, 1_710_000_000_100_000_000, 5
    )


def _cf(data: str, received_at: int = 1_710_000_000_500) -> KalshiCfbenchmarksValue:
    frame = {"type": "cfbenchmarks_value", "sid": 1, "seq": 1,
             "msg": {"index_id": "BRTI", "received_at": received_at, "data": data}}  # fmt: skip
    msg = FRAME_DECODER.decode(json.dumps(frame))
    assert isinstance(msg, KalshiCfbenchmarksValue)
    return msg


def test_cfbenchmarks_time_falls_back_and_bad_data_is_refused() -> None:
    price = normalize_index(_cf('{"type":"value","id":"BRTI","value":"1.5"}'), 7)
    assert price.ts_event == 1_710_000_000_500_000_000 and price.value == 150_000_000 and price.avg_60s is None
    assert normalize_index(_cf('{"value":"1.5"}', received_at=0), 7).ts_event == 7
    for data in ("", "not json", '{"id":"BRTI"}', '{"id":"ETHUSD_RTI","value":"1"}', '{"value":1.5}', "[1]"):
        with pytest.raises(DecodeError):
            normalize_index(_cf(data), 7)


def test_the_stream_emits_index_prices_and_survives_a_bad_one() -> None:
    events: list[Any] = []
    dead = ListDeadLetter()
    stats = FeedStats()
    stream = KalshiStream(BookManager(), "t", stats=stats, dead_letter=dead, on_event=events.append)
    cf = spec_example("cfbenchmarksValue")
    stream.on_frame(json.dumps(cf).encode(), 11)
    stream.on_frame(json.dumps({**spec_example("pythValue"), "sid": 2}).encode(), 12)  # its own subscription
    bad = {**cf, "seq": 43, "msg": {**cf["msg"], "data": '{"value":"1.123456789"}'}}
    stream.on_frame(json.dumps(bad).encode(), 13)
    stream.on_frame(json.dumps({**cf, "seq": 44}).encode(), 14)
    assert [(e.index, e.ts_recv) for e in events] == [("BRTI", 11), ("Metal.XAU/USD", 12), ("BRTI", 14)]
    assert stats.decode_errors == 1 and len(dead.items) == 1


def test_index_price_travels_on_the_bus() -> None:
    price = IndexPrice("kalshi:index:Metal.XAU/USD", "Metal.XAU/USD", "pyth", "kalshi", 236_512_345_000, 1, 2)
    assert subject_for(price) == "hadron.v1.kalshi.index_price.index_3AMetal_2EXAU_2FUSD"
    assert decode_envelope(encode_envelope(make_envelope("s", 0, price))).event == price


def test_series_map_to_underlyings_and_the_setting_overrides() -> None:
    assert underlying_of("KXGOLD15M-26AUG102130-30") == ("pyth", "Metal.XAU/USD")
    assert underlying_of("KXBTCD-25AUG0517-T114999.99") == ("cfbenchmarks", "BRTI")
    assert underlying_of("KXETH15M-26AUG102130-30") == ("cfbenchmarks", "ETHUSD_RTI")
    assert underlying_of("KXSOLAR-26") is None and underlying_of("FED-23DEC-T3.00") is None
    markets = ["KXGOLD15M-26AUG102130-30", "KXBTCD-25AUG0517-T114999.99", "FED-23DEC-T3.00"]
    assert index_subscriptions(["auto"], markets) == {"pyth_value": ["Metal.XAU/USD"], "cfbenchmarks_value": ["BRTI"]}
    assert index_subscriptions(["pyth:Metal.XAG/USD"], markets) == {"pyth_value": ["Metal.XAG/USD"]}
    assert index_subscriptions([], markets) == {}
    assert references(["auto"], markets) == {
        "KXGOLD15M-26AUG102130-30": ["kalshi:index:Metal.XAU/USD"],
        "KXBTCD-25AUG0517-T114999.99": ["kalshi:index:BRTI"],
    }
    assert references(["cfbenchmarks:BRTI"], ["FED-23DEC-T3.00"]) == {"FED-23DEC-T3.00": ["kalshi:index:BRTI"]}


def test_config_takes_index_prices_and_names_a_bad_entry(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert load_config(environ=env, dotenv=None).kalshi.index_prices == ("auto",)
    good = tmp_path / "good.toml"
    good.write_text('[kalshi]\nindex_prices = ["cfbenchmarks:BRTI", "pyth:Metal.XAU/USD"]\n')
    assert load_config(good, environ=env, dotenv=None).kalshi.index_prices == (
        "cfbenchmarks:BRTI",
        "pyth:Metal.XAU/USD",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[kalshi]\nindex_prices = ["BRTI"]\n')
    with pytest.raises(ConfigError, match=r"kalshi\.index_prices entry .BRTI."):
        load_config(bad, environ=env, dotenv=None)


def test_loopback_walk_frames_are_spec_shaped() -> None:
    for index, (channel, _) in STARTS.items():
        walk = IndexWalk(index)
        for i in range(3):
            msg = walk.step(1_710_000_000_000 + i * 500)
            frame = msgspec.json.encode({"type": channel, "sid": 1, "seq": i + 1, "msg": msg})
            price = normalize_index(FRAME_DECODER.decode(frame), 1)  # type: ignore[arg-type]
            assert price.index == index and price.value == walk.value


def test_parquet_index_prices_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("duckdb")
    from hadron.api import read_ticks
    from hadron.store.parquet import ParquetTickStore, query

    gold = IndexPrice("kalshi:index:Metal.XAU/USD", "Metal.XAU/USD", "pyth", "kalshi", 236_512_345_000,
                      1_710_000_000_100_000_000, 1_710_000_000_123_000_000)  # fmt: skip
    btc = IndexPrice("kalshi:index:BRTI", "BRTI", "cfbenchmarks", "kalshi", 6_800_012_000_000,
                     1_710_000_000_123_000_000, 1_710_000_000_124_000_000, 6_800_012_000_000)  # fmt: skip
    store = ParquetTickStore(tmp_path)
    store.on_event(gold)
    store.on_event(btc)
    store.close()
    assert store.rows["index_prices"] == 2
    _, rows = query(tmp_path, "SELECT index, source, value, avg_60s, venue FROM index_prices ORDER BY index")
    assert rows == [
        ("BRTI", "cfbenchmarks", 6_800_012_000_000, 6_800_012_000_000, "kalshi"),
        ("Metal.XAU/USD", "pyth", 236_512_345_000, None, "kalshi"),
    ]
    table = read_ticks(tmp_path, "index_prices", instrument="kalshi:index:Metal.XAU/USD")
    assert table.column("value").to_pylist() == [236_512_345_000]
    assert table.column("ts_event").to_pylist() == [1_710_000_000_100_000_000]
