"""The Kalshi key pool from config (parsed, validated, masked, loaded) and the REST polling
fallbacks' rules (a poller that never delivers gives up; Polymarket books applied as polled
snapshots, in order, to the books and to the strategy)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from hadron.book.manager import BookManager, BookState
from hadron.config import effective, load_config
from hadron.errors import AuthError, ConfigError, TransportError
from hadron.model.events import BookSnapshot, MarketEvent
from hadron.venues.kalshi.auth import generate_test_key, load_signers, mask_key_id
from hadron.venues.kalshi.poll import KalshiPoller
from hadron.venues.kalshi.rest import KalshiRestClient
from hadron.venues.polling import until_stopped
from hadron.venues.polymarket.poll import POLLED, PolymarketPoller
from hadron.venues.polymarket.rest import PolymarketClobClient

TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


def _key_file(tmp_path: Path, name: str) -> Path:
    _, private_pem, _ = generate_test_key()
    path = tmp_path / f"{name}.pem"
    path.write_bytes(private_pem)
    path.chmod(0o600)
    return path


def _load(tmp_path: Path, text: str, **env: str) -> Any:
    toml = tmp_path / "hadron.toml"
    toml.write_text(text)
    return load_config(toml, environ={"HOME": str(tmp_path), **env}, dotenv=None)


def test_key_pool_from_config_loads_every_key_in_order(tmp_path: Path) -> None:
    a, b = _key_file(tmp_path, "a"), _key_file(tmp_path, "b")
    _, pem_c, _ = generate_test_key()
    cfg = _load(
        tmp_path,
        f'[kalshi]\napi_key_id = "main-0000"\nprivate_key_path = "{a}"\n'
        f'[[kalshi.keys]]\napi_key_id = "pool-1111"\nprivate_key_path = "{b}"\n'
        f'[[kalshi.keys]]\napi_key_id = "pool-2222"\nprivate_key = """{pem_c.decode()}"""\n',
    )
    assert [k.api_key_id for k in cfg.kalshi.keys] == ["pool-1111", "pool-2222"]
    assert [s.key_id for s in load_signers(cfg.kalshi)] == ["main-0000", "pool-1111", "pool-2222"]
    # only the pool, no single key: the pool alone
    cfg = _load(tmp_path, f'[[kalshi.keys]]\napi_key_id = "pool-1111"\nprivate_key_path = "{b}"\n')
    assert [s.key_id for s in load_signers(cfg.kalshi)] == ["pool-1111"]
    # the single key from the environment comes first, as before
    cfg = _load(
        tmp_path,
        f'[[kalshi.keys]]\napi_key_id = "pool-1111"\nprivate_key_path = "{b}"\n',
        KALSHI_API_KEY_ID="env-9999",
        KALSHI_PRIVATE_KEY_PATH=str(a),
    )
    assert [s.key_id for s in load_signers(cfg.kalshi)] == ["env-9999", "pool-1111"]


def test_effective_config_masks_every_key(tmp_path: Path) -> None:
    a = _key_file(tmp_path, "a")
    _, pem, _ = generate_test_key()
    cfg = _load(
        tmp_path,
        f'[kalshi]\napi_key_id = "a952bcbe-main-key-0000"\nprivate_key_path = "{a}"\n'
        f'[[kalshi.keys]]\napi_key_id = "5d1e77aa-pool-key-1111"\nprivate_key = """{pem.decode()}"""\n',
    )
    shown = effective(cfg)
    assert shown["kalshi"]["api_key_id"] == "…0000"
    assert shown["kalshi"]["keys"] == [
        {"api_key_id": "…1111", "private_key_path": "", "private_key": "Secret('**********')"}
    ]
    text = msgspec.json.encode(shown).decode()
    assert "5d1e77aa" not in text and "a952bcbe" not in text
    assert pem.decode().splitlines()[1] not in text + repr(cfg)  # the key itself never shows
    assert shown["kalshi"]["transport"] == "auto" and shown["polymarket"]["poll_interval_s"] == 1.0
    assert mask_key_id("5d1e77aa-pool-key-1111") == "…1111"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[kalshi.keys]]\napi_key_id = "k"\nkey_path = "x"\n', r"unknown setting kalshi\.keys\[0\]\.key_path"),
        ('[[kalshi.keys]]\nprivate_key_path = "x"\n', r"kalshi\.keys\[0\]\.api_key_id is not set"),
        ('[[kalshi.keys]]\napi_key_id = "k"\n', r"kalshi\.keys\[0\] has no key: set private_key_path"),
        ('[kalshi]\nkeys = "k"\n', r"kalshi\.keys must be \[\[kalshi\.keys\]\] tables"),
        ('[[kalshi.keys]]\napi_key_id = 5\nprivate_key_path = "x"\n', r"kalshi\.keys\[0\]\.api_key_id must be str"),
        ('[kalshi]\ntransport = "grpc"\n', r"kalshi\.transport is 'grpc': use auto, ws, rest"),
        ("[polymarket]\npoll_interval_s = 0\n", r"polymarket\.poll_interval_s is 0\.0: use seconds > 0"),
        ('[polymarket]\npoll_interval_s = "1"\n', r"polymarket\.poll_interval_s must be float"),
    ],
)
def test_pool_and_transport_errors_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_a_pool_key_that_cannot_be_loaded_is_named(tmp_path: Path) -> None:
    a = _key_file(tmp_path, "a")
    cfg = _load(
        tmp_path,
        f'[[kalshi.keys]]\napi_key_id = "k1"\nprivate_key_path = "{a}"\n'
        f'[[kalshi.keys]]\napi_key_id = "k2"\nprivate_key_path = "{tmp_path / "nope.pem"}"\n',
    )
    with pytest.raises(ConfigError, match=r"^kalshi\.keys\[1\]\.private_key_path=.*nope\.pem: cannot read"):
        load_signers(cfg.kalshi)
    cfg = _load(
        tmp_path,
        f'[kalshi]\napi_key_id = "same-key-7777"\nprivate_key_path = "{a}"\n'
        f'[[kalshi.keys]]\napi_key_id = "same-key-7777"\nprivate_key_path = "{a}"\n',
    )
    with pytest.raises(ConfigError, match=r"kalshi\.keys\[0\]\.api_key_id …7777 is already in the pool"):
        load_signers(cfg.kalshi)
    with pytest.raises(ConfigError, match=r"^KALSHI_API_KEY_ID is not set"):
        load_signers(_load(tmp_path, "").kalshi)


# -- pollers ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_kalshi_poller_that_never_delivers_gives_up_naming_the_last_error() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"error": {"code": "service_unavailable", "message": "down"}})

    async with KalshiRestClient("http://kalshi.test/trade-api/v2", transport=httpx.MockTransport(handler),
                                max_retries=0) as rest:  # fmt: skip
        poller = KalshiPoller(rest, BookManager(), ["A", "B"], interval=0.01, give_up_after=3)
        with pytest.raises(TransportError, match=r"REST polling delivered no order book in 3 cycles: B: .*HTTP 503"):
            await asyncio.wait_for(poller.run(asyncio.Event()), 10)
    assert calls == 6 and poller.stats.cycles == 3 and poller.stats.transport_errors == 6


@pytest.mark.asyncio
async def test_kalshi_poller_that_delivered_once_keeps_polling_through_failures() -> None:
    answers = iter([200] + [503] * 100)

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 200:
            return httpx.Response(200, json={"orderbook_fp": {"yes_dollars": [["0.4200", "10.00"]], "no_dollars": []}})
        return httpx.Response(503, json={"error": {"code": "unavailable", "message": "down"}})

    stop = asyncio.Event()
    async with KalshiRestClient("http://kalshi.test/trade-api/v2", transport=httpx.MockTransport(handler),
                                max_retries=0) as rest:  # fmt: skip
        poller = KalshiPoller(rest, BookManager(), ["A"], interval=0.01, give_up_after=3)
        task = asyncio.create_task(poller.run(stop))
        await asyncio.sleep(0.3)
        assert not task.done()  # it delivered a book once: later failures are counted, not fatal
        stop.set()
        await asyncio.wait_for(task, 5)
    assert poller.stats.polls == 1 and poller.stats.errors >= 5


def _book_body(timestamp: str, bid: str = "0.48") -> bytes:
    return json.dumps(
        {
            "market": "0xabc",
            "asset_id": TOKEN,
            "timestamp": timestamp,
            "hash": "0" * 40,
            "bids": [{"price": "0.47", "size": "30"}, {"price": bid, "size": "12.5"}],
            "asks": [{"price": "0.55", "size": "7"}, {"price": "0.52", "size": "100"}],
            "min_order_size": "5",
            "tick_size": "0.01",
            "neg_risk": False,
            "last_trade_price": "0.50",
        }
    ).encode()


@pytest.mark.asyncio
async def test_polymarket_poller_applies_polled_snapshots_in_order_and_emits_them() -> None:
    bodies = [_book_body("1790000000500"), _book_body("1790000000400", bid="0.49"), _book_body("1790000000900")]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=bodies[len(seen) - 1], headers={"Content-Type": "application/json"})

    books = BookManager()
    events: list[MarketEvent] = []
    raw: list[str] = []
    async with PolymarketClobClient("http://clob.test", transport=httpx.MockTransport(handler)) as clob:
        poller = PolymarketPoller(
            clob, books, [TOKEN], on_event=events.append, on_raw=lambda req, body, ts: raw.append(req)
        )
        for _ in range(3):
            await poller.poll_once()
    book = books.book(f"polymarket:{TOKEN}")
    assert [r.url.params["token_id"] for r in seen] == [TOKEN] * 3 and raw[0] == f"GET /book?token_id={TOKEN}"
    assert book.state is BookState.LIVE and book.polled and book.source is POLLED
    assert book.levels_bid() == [(4800, 12_500_000), (4700, 30_000_000)]  # best first
    assert book.levels_ask() == [(5200, 100_000_000), (5500, 7_000_000)]
    assert book.ts_event == 1790000000900 * 1_000_000
    # the second answer was older than the book held: dropped (its 0.49 bid never applied)
    assert (poller.stats.polls, poller.stats.stale, poller.stats.cycles) == (2, 1, 3)
    assert len(events) == 2 and all(isinstance(e, BookSnapshot) for e in events)


@pytest.mark.asyncio
async def test_polymarket_poller_stops_on_auth_and_gives_up_when_nothing_comes() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "Unauthorized"})

    async with PolymarketClobClient("http://clob.test", transport=httpx.MockTransport(refused)) as clob:
        with pytest.raises(AuthError):
            await PolymarketPoller(clob, BookManager(), [TOKEN], interval=0.01).run(asyncio.Event())

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "No orderbook exists for the requested token id"})

    async with PolymarketClobClient("http://clob.test", transport=httpx.MockTransport(missing)) as clob:
        poller = PolymarketPoller(clob, BookManager(), [TOKEN, "12"], interval=0.01, give_up_after=2)
        with pytest.raises(TransportError, match=r"no order book in 2 cycles: 12: .*No orderbook exists"):
            await asyncio.wait_for(poller.run(asyncio.Event()), 10)
    assert poller.stats.request_errors == 4 and not poller.active


@pytest.mark.asyncio
async def test_until_stopped_abandons_work_at_the_stop_and_passes_errors_on() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    await asyncio.wait_for(until_stopped(asyncio.sleep(60), stop), 2)  # returns at the stop

    async def boom() -> None:
        raise TransportError("down")

    with pytest.raises(TransportError, match="down"):
        await until_stopped(boom(), asyncio.Event())
