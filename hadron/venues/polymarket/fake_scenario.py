"""What the loopback Polymarket venue plays: Polymarket captures read into a timeline, Kalshi
captures transcoded into Polymarket's wire format (a YES/NO token pair per market, optionally
moved away from Kalshi's prices), and the recordings and pairs files built from them for
benchmarks, the demo and tests.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hadron.model.units import PRICE_ONE, parse_price, parse_size
from hadron.store.reader import LineReader, read_all
from hadron.store.replay import RecordingFormat, detect, json_frames
from hadron.venues.polymarket.fake_exchange import MIN_ORDER_SIZE, FakePolyBook, price_text, size_text


@dataclass
class Played:
    """One message of the timeline: its time (ms), the tokens it touches, and the message."""

    recv_ms: int
    assets: frozenset[str]
    msg: dict[str, Any]


def _assets_of(msg: dict[str, Any]) -> frozenset[str]:
    if msg.get("event_type") == "price_change" and msg.get("price_changes"):
        return frozenset(c.get("asset_id", "") for c in msg["price_changes"])
    token = msg.get("asset_id")
    if token:
        return frozenset([token])
    return frozenset(msg.get("assets_ids") or [])


def _polymarket_messages(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    rec = detect(path)
    if rec is None:
        return
    if rec.format is RecordingFormat.FRAMES_JSON:
        raws = [bytes(r) for r in json_frames(read_all(path))]
        wrapped = [(0, r) for r in raws]
    else:
        wrapped = []
        for line in LineReader(path):
            obj = msgspec.json.decode(line)
            if isinstance(obj, dict) and "event" in obj and "recv_ms" in obj:
                wrapped.append((int(obj["recv_ms"]), msgspec.json.encode(obj["event"])))
            else:
                wrapped.append((0, line))
    for recv_ms, raw in wrapped:
        value = msgspec.json.decode(raw)
        for msg in value if isinstance(value, list) else [value]:
            if isinstance(msg, dict) and "event_type" in msg:
                stamp = recv_ms or int(msg.get("timestamp") or 0)
                yield stamp, msg


def token_ids(ticker: str) -> tuple[str, str, str]:
    """Deterministic ``(condition id, YES token id, NO token id)`` for a transcoded Kalshi market.

    Token ids are 77–78 digit decimal strings, like Polymarket's.
    """
    digest = hashlib.sha256(ticker.encode()).digest()
    yes = str(int.from_bytes(hashlib.sha256(digest + b"yes").digest(), "big"))
    no = str(int.from_bytes(hashlib.sha256(digest + b"no").digest(), "big"))
    return "0x" + digest.hex(), yes, no


class _KalshiTranscoder:
    """Kalshi book frames → Polymarket messages for a YES/NO token pair (same order flow)."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}

    def messages(self, event: dict[str, Any], recv_ms: int) -> list[dict[str, Any]]:
        kind = event.get("type")
        msg = event.get("msg") or {}
        ticker = msg.get("market_ticker", "")
        if not ticker:
            return []
        market, yes_token, no_token = token_ids(ticker)
        yes, no = self.books.setdefault(ticker, ({}, {}))
        stamp = str(msg.get("ts_ms") or recv_ms)
        if kind == "orderbook_snapshot":
            yes.clear()
            no.clear()
            yes.update((parse_price(p), parse_size(s)) for p, s in msg.get("yes_dollars_fp") or [])
            no.update((parse_price(p), parse_size(s)) for p, s in msg.get("no_dollars_fp") or [])
            return [self._book(market, yes_token, yes, no, stamp), self._book(market, no_token, no, yes, stamp)]
        if kind == "orderbook_delta":
            ladder = yes if msg["side"] == "yes" else no
            price = parse_price(msg["price_dollars"])
            size = max(0, ladder.get(price, 0) + parse_size(msg["delta_fp"]))
            if size:
                ladder[price] = size
            else:
                ladder.pop(price, None)
            own, other = (yes_token, no_token) if msg["side"] == "yes" else (no_token, yes_token)
            changes = [
                self._change(own, price, size, "BUY", *self._top(yes, no, own == yes_token)),
                self._change(other, PRICE_ONE - price, size, "SELL", *self._top(yes, no, other == yes_token)),
            ]
            return [{"market": market, "price_changes": changes, "timestamp": stamp, "event_type": "price_change"}]
        if kind == "trade":
            taker_yes = (msg.get("taker_outcome_side") or msg.get("taker_side")) == "yes"
            return [
                {
                    "asset_id": yes_token,
                    "market": market,
                    "price": price_text(parse_price(msg["yes_price_dollars"])),
                    "size": size_text(parse_size(msg["count_fp"])),
                    "side": "BUY" if taker_yes else "SELL",
                    "fee_rate_bps": "0",
                    "timestamp": stamp,
                    "event_type": "last_trade_price",
                }
            ]
        return []

    @staticmethod
    def _top(yes: dict[int, int], no: dict[int, int], is_yes: bool) -> tuple[str, str]:
        bids, other = (yes, no) if is_yes else (no, yes)
        bid = max(bids) if bids else 0
        ask = PRICE_ONE - max(other) if other else PRICE_ONE
        return price_text(bid), price_text(ask)

    @staticmethod
    def _change(token: str, price: int, size: int, side: str, best_bid: str, best_ask: str) -> dict[str, Any]:
        return {
            "asset_id": token,
            "price": price_text(price),
            "size": size_text(size),
            "side": side,
            "hash": hashlib.sha1(f"{token}{price}{size}{side}".encode(), usedforsecurity=False).hexdigest(),
            "best_bid": best_bid,
            "best_ask": best_ask,
        }

    @staticmethod
    def _book(market: str, token: str, bids: dict[int, int], opposite: dict[int, int], stamp: str) -> dict[str, Any]:
        book = FakePolyBook(market, dict(bids), {PRICE_ONE - p: s for p, s in opposite.items()}, int(stamp))
        return book.message(token)


def _moved(price: str, shift: int) -> str:
    return price_text(min(PRICE_ONE - 100, max(100, parse_price(price) + shift)))


def dislocate(msg: dict[str, Any], shifts: dict[str, int]) -> dict[str, Any]:
    """Move a market-channel message's prices per token, in place, and return it.

    ``shifts`` maps token ids to a price move (int, 1/10,000 USD; e.g. ``-2500`` moves a token 25¢
    down); prices stay within $0.01..$0.99 (levels that meet at an edge are merged). Hashes and
    ``best_bid``/``best_ask`` are dropped: they would no longer describe the book. Tokens not in
    ``shifts`` are left alone. Used to build cross-venue dislocations from one real capture.
    """
    kind = msg.get("event_type")
    if kind == "book":
        shift = shifts.get(msg.get("asset_id", ""))
        if shift:
            for side in ("bids", "asks"):
                levels: dict[str, int] = {}
                for level in msg[side]:
                    price = _moved(level["price"], shift)
                    levels[price] = levels.get(price, 0) + parse_size(level["size"])
                msg[side] = [{"price": p, "size": size_text(z)} for p, z in levels.items()]
            msg.pop("hash", None)
    elif kind == "price_change":
        for change in msg["price_changes"]:
            shift = shifts.get(change.get("asset_id", ""))
            if shift:
                change["price"] = _moved(change["price"], shift)
                change.pop("best_bid", None)
                change.pop("best_ask", None)
    elif kind == "last_trade_price":
        shift = shifts.get(msg.get("asset_id", ""))
        if shift:
            msg["price"] = _moved(msg["price"], shift)
    return msg


def transcode_kalshi(paths: Iterable[Path], *, shift: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """Turn Kalshi capture files into Polymarket market-channel messages, ``(recv_ms, message)``.

    Each Kalshi market becomes a YES token (its YES bids; asks = 1 − NO bids) and a NO token (the
    mirror); a Kalshi snapshot becomes two ``book`` messages, a delta one ``price_change`` with
    both legs and each token's best bid/ask, a trade a ``last_trade_price`` on the YES token.

    ``shift`` (int, 1/10,000 USD) moves every YES token's prices by ``shift`` and every NO token's
    by ``−shift`` (see :func:`dislocate`): the Polymarket copy then disagrees with the Kalshi
    original by that much, a cross-venue dislocation on real order flow.
    """

    class _Line(msgspec.Struct):
        recv_ms: int
        event: dict[str, Any]

    decoder = msgspec.json.Decoder(_Line)
    transcoder = _KalshiTranscoder()

    def lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for raw in LineReader(path):
            try:
                line = decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue
            yield line.recv_ms, line.event

    shifts: dict[str, int] = {}
    seen: set[str] = set()
    for recv_ms, event in heapq.merge(*(lines(p) for p in paths), key=lambda item: item[0]):
        for msg in transcoder.messages(event, recv_ms):
            if shift:
                ticker = (event.get("msg") or {}).get("market_ticker", "")
                if ticker and ticker not in seen:
                    seen.add(ticker)
                    _, yes, no = token_ids(ticker)
                    shifts[yes], shifts[no] = shift, -shift
                dislocate(msg, shifts)
            yield recv_ms, msg


def later(item: Played, offset_ms: int) -> Played:
    """``item`` with its time (and its message's ``timestamp``) moved on by ``offset_ms`` (a looped round)."""
    msg = item.msg
    if "timestamp" in msg:
        msg = {**msg, "timestamp": str(int(msg["timestamp"]) + offset_ms)}
    return Played(item.recv_ms + offset_ms, item.assets, msg)


def pairs_toml(
    tickers: Iterable[str], *, fee_rate: str = "0.04", settles_at: str | None = None, kalshi_fee_multiplier: str = "1"
) -> str:
    """A pairs file approving each Kalshi market with its transcoded Polymarket token pair, with
    both fee terms stated (an approved pair without them is refused when loaded).

    Args:
        tickers: Kalshi market tickers (transcoded with :func:`transcode_kalshi`).
        fee_rate: the Polymarket taker fee rate to price the tokens with (decimal string).
        settles_at: ISO 8601 settlement time of the pair, when known.
        kalshi_fee_multiplier: the Kalshi markets' fee multiplier (decimal string; 1: the standard fee).
    """
    out = []
    for ticker in tickers:
        market, yes, no = token_ids(ticker)
        event = ticker.rsplit("-", 1)[0]
        lines = [
            "[[pair]]",
            f'id = "{ticker}"',
            f'kalshi_event = "{event}"',
            f'kalshi_market = "{ticker}"',
            f'polymarket_event = "{event}"',
            f'polymarket_market = "{market}"',
            f'polymarket_yes_token = "{yes}"',
            f'polymarket_no_token = "{no}"',
            'relation = "identity"',
            "confidence = 1.0",
            'status = "approved"',
            f'kalshi_fee_multiplier = "{kalshi_fee_multiplier}"',
            f'polymarket_fee_rate = "{fee_rate}"',
            f'polymarket_min_size = "{MIN_ORDER_SIZE}"',
        ]
        if settles_at:
            lines.append(f'settles_at = "{settles_at}"')
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def write_pair_recording(paths: Iterable[Path], out: Path, *, shift: int) -> int:
    """Write one Hadron recording holding a Kalshi capture and its dislocated Polymarket copy.

    Lines are time-ordered by receive time (Kalshi first on a tie), each
    ``{"recv_ns", "venue", "conn", "frame"}`` (connections ``k``, ``k1``… one per capture file,
    and ``pm``), so one replay sees
    both venues as a live runtime would. ``shift`` as :func:`transcode_kalshi`. Returns the number
    of lines written.
    """
    paths = list(paths)

    class _Line(msgspec.Struct):
        recv_ms: int
        event: msgspec.Raw

    decoder = msgspec.json.Decoder(_Line)
    encoder = msgspec.json.Encoder()
    items: list[tuple[int, int, int, bytes]] = []
    n = 0
    for index, path in enumerate(paths):
        conn = "k" if index == 0 else f"k{index}"  # each capture file is its own connection
        for raw in LineReader(path):
            try:
                line = decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue
            record = {
                "recv_ns": line.recv_ms * 1_000_000,
                "venue": "kalshi",
                "conn": conn,
                "frame": bytes(line.event).decode(),
            }
            items.append((line.recv_ms, 0, n, encoder.encode(record)))
            n += 1
    for n, (recv_ms, msg) in enumerate(transcode_kalshi(paths, shift=shift)):
        record = {
            "recv_ns": recv_ms * 1_000_000,
            "venue": "polymarket",
            "conn": "pm",
            "frame": encoder.encode(msg).decode(),
        }
        items.append((recv_ms, 1, n, encoder.encode(record)))
    items.sort(key=lambda item: item[:3])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as sink:
        for *_, line_bytes in items:
            sink.write(line_bytes + b"\n")
    return len(items)


def load_capture(paths: Iterable[Path], *, shift: int = 0) -> list[Played]:
    """Read Polymarket frame files and Kalshi captures (transcoded, moved by ``shift`` as in
    :func:`transcode_kalshi`) into one timeline."""
    items: list[tuple[int, dict[str, Any]]] = []
    kalshi: list[Path] = []
    for path in paths:
        rec = detect(path)
        if rec is not None and rec.venue == "kalshi":
            kalshi.append(path)
        else:
            items.extend(_polymarket_messages(path))
    items.extend(transcode_kalshi(kalshi, shift=shift))
    items.sort(key=lambda item: item[0])
    return [Played(recv_ms, _assets_of(msg), msg) for recv_ms, msg in items]
