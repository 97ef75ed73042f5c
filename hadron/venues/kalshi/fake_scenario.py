"""What the loopback Kalshi venue plays: a capture read into one timeline of book and trade frames
(:func:`load_capture`), and the scripted ``communications`` channel (an RFQ and its quote).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hadron.store.reader import LineReader
from hadron.venues.kalshi.messages import (
    KalshiOrderbookDeltaMsg,
    KalshiOrderbookSnapshotMsg,
    KalshiTradeMsg,
)


def communications_script(ticker: str) -> list[tuple[str, dict[str, Any]]]:
    """The scripted ``communications`` channel of the loopback venue for market ``ticker``: one RFQ
    and a quote on it through its life (``rfq_created``, ``quote_created``, ``quote_accepted``,
    ``quote_executed``, ``rfq_deleted``), ``(type, msg)`` each, shaped as the AsyncAPI examples
    (``rfqCreated`` … ``quoteExecuted``). Sent to a new ``communications`` subscriber at once."""
    event = ticker.rsplit("-", 1)[0]
    rfq = {
        "id": "rfq_loopback_1",
        "creator_id": "",
        "market_ticker": ticker,
        "event_ticker": event,
        "contracts_fp": "100.00",
        "target_cost_dollars": "0.35",
    }
    quote = {
        "quote_id": "quote_loopback_1",
        "rfq_id": rfq["id"],
        "quote_creator_id": "comm_loopback_maker",
        "rfq_creator_id": "comm_loopback_taker",
        "market_ticker": ticker,
        "event_ticker": event,
        "yes_bid_dollars": "0.35",
        "no_bid_dollars": "0.65",
        "yes_contracts_offered_fp": "100.00",
        "no_contracts_offered_fp": "200.00",
        "rfq_target_cost_dollars": "0.35",
    }
    executed = {
        "quote_id": quote["quote_id"],
        "rfq_id": rfq["id"],
        "quote_creator_id": quote["quote_creator_id"],
        "rfq_creator_id": quote["rfq_creator_id"],
        "order_id": "order_loopback_1",
        "client_order_id": "hadron_loopback_1",
        "market_ticker": ticker,
        "executed_ts": "2026-08-27T10:00:02Z",
    }
    return [
        ("rfq_created", {**rfq, "created_ts": "2026-08-27T10:00:00Z"}),
        ("quote_created", {**quote, "created_ts": "2026-08-27T10:00:01Z"}),
        ("quote_accepted", {**quote, "accepted_side": "yes", "contracts_accepted_fp": "50.00"}),
        ("quote_executed", executed),
        ("rfq_deleted", {**rfq, "creator_id": "comm_loopback_taker", "deleted_ts": "2026-08-27T10:00:03Z"}),
    ]


class _Envelope(msgspec.Struct, gc=False):
    type: str
    msg: msgspec.Raw = msgspec.Raw(b"{}")


class _CaptureLine(msgspec.Struct, gc=False):
    recv_ms: int
    event: _Envelope


@dataclass
class CaptureEntry:
    """One played frame: its receive time, type, market, raw ``msg`` and decoded ``msg``."""

    recv_ms: int
    kind: str
    ticker: str
    raw: bytes
    msg: KalshiOrderbookSnapshotMsg | KalshiOrderbookDeltaMsg | KalshiTradeMsg


_MSG_TYPES: dict[str, type[Any]] = {
    "orderbook_snapshot": KalshiOrderbookSnapshotMsg,
    "orderbook_delta": KalshiOrderbookDeltaMsg,
    "trade": KalshiTradeMsg,
}


def _read_capture(path: Path) -> Iterator[CaptureEntry]:
    line_decoder = msgspec.json.Decoder(_CaptureLine)
    decoders = {kind: msgspec.json.Decoder(t) for kind, t in _MSG_TYPES.items()}
    for line in LineReader(path):
        try:
            cap = line_decoder.decode(line)
            decoder = decoders.get(cap.event.type)
            if decoder is None:
                continue
            raw = bytes(cap.event.msg)
            msg = decoder.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
        yield CaptureEntry(cap.recv_ms, cap.event.type, msg.market_ticker, raw, msg)


def load_capture(paths: Iterable[Path]) -> list[CaptureEntry]:
    """Read Kalshi capture files (``{"recv_ms", "event"}`` NDJSON, gzipped or not) into one
    timeline, merged by receive time; frames other than book and trade frames are skipped."""
    return list(heapq.merge(*(_read_capture(p) for p in paths), key=lambda e: e.recv_ms))
