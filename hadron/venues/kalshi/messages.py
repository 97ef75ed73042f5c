"""Kalshi WebSocket v2 wire messages as msgspec structs, decoded by one reusable decoder.

Every server frame is a JSON object tagged by ``type`` (see Kalshi AsyncAPI, ``docs.kalshi.com``
``asyncapi.yaml``); data frames carry ``sid`` (subscription id) and usually ``seq`` (per-sid
sequence number) around a ``msg`` object. Prices are dollar strings (``"0.4800"``) and counts
``_fp`` strings (``"46.02"``); they stay strings here and become fixed-point integers in
:mod:`hadron.venues.kalshi.normalize`. Unknown fields are ignored; fields Kalshi has dropped from
live frames before (``ts``, ``dollar_volume``...) are optional.

Decode with :data:`FRAME_DECODER` (one raw frame) or :data:`CAPTURE_DECODER` (one capture line
``{"recv_ms": int, "event": <frame>}``); both raise ``msgspec.DecodeError`` /
``msgspec.ValidationError`` on bad input.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, unique
from typing import Annotated, Any, Literal, get_args

import msgspec

MAX_FRAME_BYTES = 4 << 20
"""The largest frame the Kalshi WebSocket accepts (4 MiB; ``max_size``, a larger one closes the
connection with 1009 and the session starts again). One frame carries one market: the largest,
an ``orderbook_snapshot`` of a 0.0001-tick market full on both sides (10,000 levels a side of
``["0.0001","1000000.00"]``), is under 0.5 MB; the largest of the 1.9 million frames of
the KXGOLD15M captures is 1.5 KB."""

MAX_TICKER_LENGTH = 256
"""Longest market, event or series ticker accepted (characters): live tickers run to about 40
(``KXCRYPTOLEAD15M-26SEP210115-HYPE``), multivariate combos to about 100; a longer one is a bad
frame, never a book."""

Ticker = Annotated[str, msgspec.Meta(max_length=MAX_TICKER_LENGTH)]
"""A market, event or series ticker, at most :data:`MAX_TICKER_LENGTH` characters."""

# -- market data -------------------------------------------------------------------------------


class KalshiOrderbookSnapshotMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``orderbook_snapshot``: both bid ladders, ascending by price.

    ``yes_dollars_fp``/``no_dollars_fp``: ``[[price_dollars, count_fp], ...]``; a missing key is
    an empty side. No timestamp. Example::

        {"market_ticker":"KXGOLDH-26AUG2711-T4615.99","market_id":"ef79…",
         "yes_dollars_fp":[["0.0100","1410.00"]],"no_dollars_fp":[["0.0100","100.00"]]}
    """

    market_ticker: Ticker
    market_id: str = ""
    yes_dollars_fp: list[tuple[str, str]] = []
    no_dollars_fp: list[tuple[str, str]] = []


class KalshiOrderbookSnapshot(msgspec.Struct, frozen=True, gc=False, tag="orderbook_snapshot", tag_field="type"):
    """Full book of one market (channel ``orderbook_delta``); ``id`` set when it answers a
    ``get_snapshot`` command."""

    sid: int
    seq: int
    msg: KalshiOrderbookSnapshotMsg
    id: int | None = None


MAX_MS = (2**63 - 1) // 1_000_000
"""The latest Unix time in milliseconds whose nanoseconds fit a signed 64-bit integer (in 2262)."""

Millis = Annotated[int, msgspec.Meta(ge=0, le=MAX_MS)]
"""Unix milliseconds, 0 to :data:`MAX_MS`: the decoder rejects anything else (the compiled hot path
computes nanoseconds as 64-bit integers)."""

MAX_S = (2**63 - 1) // 1_000_000_000
"""The latest Unix time in seconds whose nanoseconds fit a signed 64-bit integer (in 2262)."""

Seconds = Annotated[int, msgspec.Meta(ge=0, le=MAX_S)]
"""Unix seconds, 0 to :data:`MAX_S` (lifecycle times: ``open_ts``, ``close_ts``…): the decoder rejects
anything else, so a time in ns always fits the books' 64-bit fields."""


class KalshiOrderbookDeltaMsg(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """``msg`` of ``orderbook_delta``: a signed change ``delta_fp`` to the ``side`` bid ladder.

    Example::

        {"market_ticker":"KXGOLDH-26AUG2711-T4615.99","price_dollars":"0.0100","delta_fp":"10.00",
         "side":"yes","ts":"2026-08-27T13:56:23.996443Z","ts_ms":1787838983996}
    """

    market_ticker: Ticker
    price_dollars: str
    delta_fp: str
    side: Literal["yes", "no"]
    ts_ms: Millis = 0
    client_order_id: str | None = None
    subaccount: int | None = None


class KalshiOrderbookDelta(msgspec.Struct, frozen=True, gc=False, tag="orderbook_delta", tag_field="type"):
    """One level change of one market's book (channel ``orderbook_delta``)."""

    sid: int
    seq: int
    msg: KalshiOrderbookDeltaMsg


class KalshiTradeMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``trade``: one public print.

    Example::

        {"trade_id":"d91b…","market_ticker":"HIGHNY-22DEC23-B53.5","yes_price_dollars":"0.3600",
         "no_price_dollars":"0.6400","count_fp":"136.00","taker_outcome_side":"no",
         "taker_book_side":"ask","is_block_trade":false,"ts":1669149841,"ts_ms":1669149841000}
    """

    market_ticker: Ticker
    yes_price_dollars: str
    count_fp: str
    trade_id: str = ""
    no_price_dollars: str = ""
    taker_outcome_side: str = ""
    taker_book_side: str = ""
    taker_side: str = ""
    is_block_trade: bool = False
    ts: int = 0
    ts_ms: int = 0


class KalshiTrade(msgspec.Struct, frozen=True, gc=False, tag="trade", tag_field="type"):
    """A public trade (channel ``trade``); ``seq`` is absent from the AsyncAPI example (optional)."""

    sid: int
    msg: KalshiTradeMsg
    seq: int | None = None


class KalshiTickerMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``ticker``: the venue's L1 view. Not sequenced; an empty bid is ``"0.0000"``
    and an empty ask ``"1.0000"``."""

    market_ticker: Ticker
    market_id: str = ""
    price_dollars: str = ""
    yes_bid_dollars: str = ""
    yes_ask_dollars: str = ""
    yes_bid_size_fp: str = ""
    yes_ask_size_fp: str = ""
    last_trade_size_fp: str = ""
    volume_fp: str = ""
    open_interest_fp: str = ""
    ts: int = 0
    ts_ms: int = 0


class KalshiTicker(msgspec.Struct, frozen=True, gc=False, tag="ticker", tag_field="type"):
    """Top of book and last trade of one market (channel ``ticker``)."""

    sid: int
    msg: KalshiTickerMsg
    seq: int | None = None


class KalshiPriceRange(msgspec.Struct, frozen=True, gc=False):
    """One band of a market's price grid: ``start``..``end`` in steps of ``step`` (dollars)."""

    start: str
    end: str
    step: str


class KalshiMarketMetadata(msgspec.Struct, frozen=True, gc=False):
    """``additional_metadata`` of a ``market_lifecycle_v2`` ``created`` message (times Unix
    seconds; strikes exact, JSON numbers read as :class:`~decimal.Decimal`, never floats).
    See Kalshi AsyncAPI ``marketLifecycleV2Payload``."""

    name: str = ""
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    rules_primary: str = ""
    rules_secondary: str = ""
    can_close_early: bool | None = None
    event_ticker: str = ""
    expected_expiration_ts: Seconds = 0
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    custom_strike: dict[str, Any] | None = None


class KalshiMarketLifecycleMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``market_lifecycle_v2``; which optional keys are set depends on
    ``event_type`` (created, activated, deactivated, close_date_updated, determined, settled,
    price_level_structure_updated, metadata_updated). Times are Unix seconds;
    ``settlement_value`` and ``price_ranges`` fixed-point dollar strings; strikes (sent on
    ``metadata_updated``, or in ``additional_metadata`` on ``created``) exact decimals.
    See Kalshi AsyncAPI ``marketLifecycleV2Payload``."""

    market_ticker: Ticker
    event_type: str
    open_ts: Seconds | None = None
    close_ts: Seconds | None = None
    determination_ts: Seconds | None = None
    settled_ts: Seconds | None = None
    result: str = ""
    settlement_value: str | None = None
    is_deactivated: bool | None = None
    price_level_structure: str = ""
    price_ranges: list[KalshiPriceRange] = []
    additional_metadata: KalshiMarketMetadata | None = None
    exchange_index: int = 0
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    custom_strike: dict[str, Any] | None = None
    yes_sub_title: str = ""


class KalshiMarketLifecycle(msgspec.Struct, frozen=True, gc=False, tag="market_lifecycle_v2", tag_field="type"):
    """A market lifecycle change (channel ``market_lifecycle_v2``)."""

    sid: int
    msg: KalshiMarketLifecycleMsg
    seq: int | None = None


class KalshiEventLifecycleMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``event_lifecycle``: an event was created or changed."""

    event_ticker: Ticker
    title: str = ""
    subtitle: str = ""
    series_ticker: str = ""
    collateral_return_type: str = ""
    exchange_index: int = 0
    strike_date: Seconds | None = None
    """Unix seconds (spec: optional)."""
    strike_period: str = ""


class KalshiEventLifecycle(msgspec.Struct, frozen=True, gc=False, tag="event_lifecycle", tag_field="type"):
    """An event lifecycle change (channels ``market_lifecycle_v2`` and multivariate)."""

    sid: int
    msg: KalshiEventLifecycleMsg
    seq: int | None = None


class KalshiEventFeeUpdateMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``event_fee_update``: an event's fee override (multiplier kept exact)."""

    event_ticker: Ticker
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None


class KalshiEventFeeUpdate(msgspec.Struct, frozen=True, gc=False, tag="event_fee_update", tag_field="type"):
    """An event fee override (channel ``market_lifecycle_v2``)."""

    sid: int
    msg: KalshiEventFeeUpdateMsg
    seq: int | None = None


# -- reference prices (channels cfbenchmarks_value, pyth_value) ---------------------------------


class KalshiWindowAverage(msgspec.Struct, frozen=True, gc=False):
    """A windowed average of an index: ``value`` a decimal string, times in Unix ms."""

    value: str = ""
    window_size: int = 0
    window_start_ts_ms: int = 0
    window_end_ts_exclusive: int = 0


class KalshiCfbenchmarksValueMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``cfbenchmarks_value``: one CF Benchmarks index print.

    ``data`` is CF Benchmarks' own JSON message as a string (``{"type":"value","id":"BRTI",
    "time":<ms>,"value":"68000.12"}``); ``received_at`` is when Kalshi received it (Unix ms).
    See Kalshi AsyncAPI ``cfbenchmarksValue``.
    """

    index_id: Ticker
    received_at: Millis = 0
    data: str = ""
    avg_60s_data: KalshiWindowAverage | None = None
    last_60s_windowed_average_15min: KalshiWindowAverage | None = None


class KalshiCfbenchmarksValue(msgspec.Struct, frozen=True, gc=False, tag="cfbenchmarks_value", tag_field="type"):
    """A CF Benchmarks index value (channel ``cfbenchmarks_value``)."""

    sid: int
    msg: KalshiCfbenchmarksValueMsg
    seq: int | None = None


class KalshiCfbenchmarksIndexListMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``cfbenchmarks_value_indexlist``: the index ids the subscription carries."""

    index_ids: list[Ticker] = []


class KalshiCfbenchmarksIndexList(
    msgspec.Struct, frozen=True, gc=False, tag="cfbenchmarks_value_indexlist", tag_field="type"
):
    """The answer to a ``list`` command on a ``cfbenchmarks_value`` subscription."""

    sid: int
    msg: KalshiCfbenchmarksIndexListMsg
    id: int | None = None
    seq: int | None = None


class KalshiPythValueMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``pyth_value``: one Pyth price of an underlying (``value_usd`` a decimal string;
    ``source_ts_ms`` Pyth's time, ``received_at`` Kalshi's, Unix ms). See Kalshi AsyncAPI ``pythValue``."""

    underlying_ticker: Ticker
    value_usd: str
    source_ts_ms: Millis = 0
    received_at: Millis = 0


class KalshiPythValue(msgspec.Struct, frozen=True, gc=False, tag="pyth_value", tag_field="type"):
    """A Pyth reference price (channel ``pyth_value``)."""

    sid: int
    msg: KalshiPythValueMsg
    seq: int | None = None


class KalshiPythUnderlyingListMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``pyth_value_underlying_list``: the underlyings the subscription carries."""

    underlying_tickers: list[Ticker] = []


class KalshiPythUnderlyingList(
    msgspec.Struct, frozen=True, gc=False, tag="pyth_value_underlying_list", tag_field="type"
):
    """The answer to a ``list`` command on a ``pyth_value`` subscription."""

    sid: int
    msg: KalshiPythUnderlyingListMsg
    id: int | None = None
    seq: int | None = None


# -- multivariate markets (channel multivariate_market_lifecycle) -------------------------------


class KalshiMultivariateMetadata(msgspec.Struct, frozen=True, gc=False):
    """``additional_metadata`` of a multivariate market lifecycle message (times Unix seconds)."""

    name: str = ""
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    rules_primary: str = ""
    rules_secondary: str = ""
    can_close_early: bool | None = None
    event_ticker: str = ""
    expected_expiration_ts: Seconds = 0


class KalshiMultivariateLifecycleMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``multivariate_market_lifecycle``: a multivariate (combo) market's lifecycle
    event (``event_type`` as in ``market_lifecycle_v2``; ``open_ts``/``close_ts`` Unix seconds).
    See Kalshi AsyncAPI ``multivariateMarketLifecycle``."""

    market_ticker: Ticker
    event_type: str
    exchange_index: int = 0
    open_ts: Seconds | None = None
    close_ts: Seconds | None = None
    determination_ts: Seconds | None = None
    settled_ts: Seconds | None = None
    result: str = ""
    additional_metadata: KalshiMultivariateMetadata | None = None
    settlement_value: str | None = None
    is_deactivated: bool | None = None
    price_level_structure: str = ""
    price_ranges: list[KalshiPriceRange] = []


class KalshiMultivariateLifecycle(
    msgspec.Struct, frozen=True, gc=False, tag="multivariate_market_lifecycle", tag_field="type"
):
    """A multivariate market lifecycle event (channel ``multivariate_market_lifecycle``)."""

    sid: int
    msg: KalshiMultivariateLifecycleMsg
    seq: int | None = None


# -- communications: RFQs and quotes (channel communications) -----------------------------------


class KalshiRfqMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``rfq_created`` / ``rfq_deleted``: a request for quote (``contracts_fp`` a
    count string, ``target_cost_dollars`` a dollar string, times RFC 3339 strings)."""

    id: str
    market_ticker: Ticker = ""
    event_ticker: str = ""
    creator_id: str = ""
    contracts_fp: str = ""
    target_cost_dollars: str = ""
    created_ts: str = ""
    deleted_ts: str = ""


class KalshiRfqCreated(msgspec.Struct, frozen=True, gc=False, tag="rfq_created", tag_field="type"):
    """An RFQ was created (channel ``communications``)."""

    sid: int
    msg: KalshiRfqMsg
    seq: int | None = None


class KalshiRfqDeleted(msgspec.Struct, frozen=True, gc=False, tag="rfq_deleted", tag_field="type"):
    """An RFQ was deleted (channel ``communications``)."""

    sid: int
    msg: KalshiRfqMsg
    seq: int | None = None


class KalshiQuoteMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``quote_created`` / ``quote_accepted`` / ``quote_executed``: a quote on an RFQ
    (prices dollar strings, counts ``_fp`` strings, times RFC 3339 strings)."""

    quote_id: str
    rfq_id: str = ""
    quote_creator_id: str = ""
    rfq_creator_id: str = ""
    market_ticker: Ticker = ""
    event_ticker: str = ""
    yes_bid_dollars: str = ""
    no_bid_dollars: str = ""
    accepted_side: str = ""
    contracts_accepted_fp: str = ""
    yes_contracts_offered_fp: str = ""
    no_contracts_offered_fp: str = ""
    rfq_target_cost_dollars: str = ""
    order_id: str = ""
    client_order_id: str = ""
    created_ts: str = ""
    executed_ts: str = ""
    subaccount: int | None = None


class KalshiQuoteCreated(msgspec.Struct, frozen=True, gc=False, tag="quote_created", tag_field="type"):
    """A quote was made on an RFQ (channel ``communications``)."""

    sid: int
    msg: KalshiQuoteMsg
    seq: int | None = None


class KalshiQuoteAccepted(msgspec.Struct, frozen=True, gc=False, tag="quote_accepted", tag_field="type"):
    """A quote was accepted (channel ``communications``)."""

    sid: int
    msg: KalshiQuoteMsg
    seq: int | None = None


class KalshiQuoteExecuted(msgspec.Struct, frozen=True, gc=False, tag="quote_executed", tag_field="type"):
    """An accepted quote was executed (channel ``communications``)."""

    sid: int
    msg: KalshiQuoteMsg
    seq: int | None = None


# -- private channels (typed and routed; not normalized) ----------------------------------------


class KalshiFillMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``fill``: one of our own executions (channel ``fill``)."""

    market_ticker: Ticker
    trade_id: str = ""
    order_id: str = ""
    client_order_id: str = ""
    is_taker: bool | None = None
    outcome_side: str = ""
    book_side: str = ""
    yes_price_dollars: str = ""
    count_fp: str = ""
    fee_cost: str = ""
    post_position_fp: str = ""
    ts_ms: int = 0
    side: str = ""
    """Deprecated (spec): the contract side, with ``action``; ``outcome_side`` replaces both."""
    action: str = ""
    purchased_side: str = ""
    ts: int = 0
    """Deprecated (spec): seconds; ``ts_ms`` replaces it."""
    exchange_index: int = 0
    subaccount: int = 0


class KalshiFill(msgspec.Struct, frozen=True, gc=False, tag="fill", tag_field="type"):
    """A fill of one of our orders (private; not sequenced)."""

    sid: int
    msg: KalshiFillMsg


class KalshiMarketPositionMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``market_position``: our signed position (+YES / −NO) and its costs."""

    market_ticker: Ticker
    position_fp: str = ""
    position_cost_dollars: str = ""
    realized_pnl_dollars: str = ""
    fees_paid_dollars: str = ""
    volume_fp: str = ""
    position_fee_cost_dollars: str = ""
    user_id: str = ""
    subaccount: int = 0


class KalshiMarketPosition(msgspec.Struct, frozen=True, gc=False, tag="market_position", tag_field="type"):
    """A position update (private channel ``market_positions``; not sequenced)."""

    sid: int
    msg: KalshiMarketPositionMsg


class KalshiUserOrderMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``user_order``: one of our orders (note the key ``ticker``, not ``market_ticker``)."""

    order_id: str
    ticker: str = ""
    status: str = ""
    outcome_side: str = ""
    book_side: str = ""
    yes_price_dollars: str = ""
    fill_count_fp: str = ""
    remaining_count_fp: str = ""
    initial_count_fp: str = ""
    client_order_id: str = ""
    created_ts_ms: int = 0
    side: str = ""
    """Deprecated (spec): the contract side; ``outcome_side`` replaces it (with ``is_yes``)."""
    is_yes: bool | None = None
    action: str = ""
    user_id: str = ""
    taker_fill_cost_dollars: str = ""
    maker_fill_cost_dollars: str = ""
    taker_fees_dollars: str = ""
    maker_fees_dollars: str = ""
    order_group_id: str = ""
    self_trade_prevention_type: str = ""
    last_updated_ts_ms: int = 0
    expiration_ts_ms: int = 0
    subaccount_number: int = 0


class KalshiUserOrder(msgspec.Struct, frozen=True, gc=False, tag="user_order", tag_field="type"):
    """An order update (private channel ``user_orders``; not sequenced)."""

    sid: int
    msg: KalshiUserOrderMsg


class KalshiOrderGroupUpdateMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``order_group_updates``."""

    event_type: str
    order_group_id: str = ""
    contracts_limit_fp: str = ""
    ts_ms: int = 0


class KalshiOrderGroupUpdate(msgspec.Struct, frozen=True, gc=False, tag="order_group_updates", tag_field="type"):
    """An order-group change (private; sequenced)."""

    sid: int
    msg: KalshiOrderGroupUpdateMsg
    seq: int | None = None


# -- command replies ---------------------------------------------------------------------------


class KalshiSubscribedMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``subscribed``: the channel and its new ``sid``."""

    channel: str
    sid: int


class KalshiSubscribed(msgspec.Struct, frozen=True, gc=False, tag="subscribed", tag_field="type"):
    """Reply to ``subscribe``: ``{"type":"subscribed","id":1,"msg":{"channel":"…","sid":1}}``."""

    msg: KalshiSubscribedMsg
    id: int | None = None


class KalshiSubscriptionInfo(msgspec.Struct, frozen=True, gc=False):
    """One entry of a ``list_subscriptions`` reply."""

    channel: str
    sid: int


class KalshiOkMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` object of ``ok`` after ``update_subscription`` or a repeated ``subscribe``."""

    market_tickers: list[str] = []


class KalshiOk(msgspec.Struct, frozen=True, gc=False, tag="ok", tag_field="type"):
    """Reply to ``update_subscription``/``list_subscriptions``; consumes a seq when it has one.

    ``msg`` is an object (market tickers) or, for ``list_subscriptions``, an array.
    """

    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: KalshiOkMsg | list[KalshiSubscriptionInfo] | None = None


class KalshiUnsubscribed(msgspec.Struct, frozen=True, gc=False, tag="unsubscribed", tag_field="type"):
    """Reply to ``unsubscribe``; consumes a seq."""

    id: int | None = None
    sid: int | None = None
    seq: int | None = None


@unique
class KalshiErrorCode(IntEnum):
    """Kalshi WebSocket error codes (AsyncAPI, 2026; 6, 16 and 17 retired but still handled)."""

    UNABLE_TO_PROCESS = 1
    PARAMS_REQUIRED = 2
    CHANNELS_REQUIRED = 3
    SIDS_REQUIRED = 4
    UNKNOWN_COMMAND = 5
    ALREADY_SUBSCRIBED = 6
    UNKNOWN_SID = 7
    UNKNOWN_CHANNEL = 8
    AUTH_REQUIRED = 9
    CHANNEL_ERROR = 10
    """Terminal: the subscription is dead, subscribe again."""
    INVALID_PARAMETER = 11
    EXACTLY_ONE_SID = 12
    UNSUPPORTED_ACTION = 13
    MARKET_TICKER_REQUIRED = 14
    ACTION_REQUIRED = 15
    MARKET_NOT_FOUND = 16
    INTERNAL_ERROR = 17
    COMMAND_TIMEOUT = 18
    SHARD_FACTOR_INVALID = 19
    SHARD_FACTOR_REQUIRED = 20
    SHARD_KEY_INVALID = 21
    SHARD_KEY_REQUIRED = 22
    MATCH_IDS_REQUIRED = 23
    INDEX_IDS_REQUIRED = 24
    BUFFER_OVERFLOW = 25
    """Terminal: the client read too slowly; subscribe again (to less, or read faster)."""
    MARKET_LIMIT = 26
    RATE_LIMITED = 27
    UNDERLYING_TICKERS_REQUIRED = 28


TERMINAL_ERROR_CODES = frozenset(
    {KalshiErrorCode.CHANNEL_ERROR, KalshiErrorCode.INTERNAL_ERROR, KalshiErrorCode.BUFFER_OVERFLOW}
)
"""Codes after which the subscription is dead and must be re-subscribed."""


def error_name(code: int) -> str:
    """Return the error code's name (``"BUFFER_OVERFLOW"``), or ``"UNKNOWN_<code>"``."""
    try:
        return KalshiErrorCode(code).name
    except ValueError:
        return f"UNKNOWN_{code}"


class KalshiErrorMsg(msgspec.Struct, frozen=True, gc=False):
    """``msg`` of ``error``: Kalshi error ``code`` (10 and 25 are terminal) and text."""

    code: int
    msg: str = ""
    market_ticker: str | None = None
    market_tickers: list[str] | None = None


class KalshiError(msgspec.Struct, frozen=True, gc=False, tag="error", tag_field="type"):
    """A command or subscription error: ``{"type":"error","id":3,"msg":{"code":8,"msg":"…"}}``."""

    msg: KalshiErrorMsg
    id: int | None = None
    sid: int | None = None
    seq: int | None = None


KalshiMessage = (
    KalshiOrderbookSnapshot
    | KalshiOrderbookDelta
    | KalshiTrade
    | KalshiTicker
    | KalshiMarketLifecycle
    | KalshiEventLifecycle
    | KalshiEventFeeUpdate
    | KalshiFill
    | KalshiMarketPosition
    | KalshiUserOrder
    | KalshiOrderGroupUpdate
    | KalshiCfbenchmarksValue
    | KalshiCfbenchmarksIndexList
    | KalshiPythValue
    | KalshiPythUnderlyingList
    | KalshiMultivariateLifecycle
    | KalshiRfqCreated
    | KalshiRfqDeleted
    | KalshiQuoteCreated
    | KalshiQuoteAccepted
    | KalshiQuoteExecuted
    | KalshiSubscribed
    | KalshiOk
    | KalshiUnsubscribed
    | KalshiError
)
"""Every Kalshi server frame Hadron understands."""

PRIVATE_MESSAGES = (KalshiFill, KalshiMarketPosition, KalshiUserOrder, KalshiOrderGroupUpdate)
"""Messages of the private channels: routed to ``on_private``, not normalized."""

INDEX_MESSAGES = (KalshiCfbenchmarksValue, KalshiPythValue)
"""Reference-price messages (channels ``cfbenchmarks_value`` and ``pyth_value``)."""

COMMUNICATIONS_MESSAGES = (
    KalshiRfqCreated,
    KalshiRfqDeleted,
    KalshiQuoteCreated,
    KalshiQuoteAccepted,
    KalshiQuoteExecuted,
)
"""Messages of the ``communications`` channel (RFQs and quotes)."""

LIST_ANSWERS = (KalshiCfbenchmarksIndexList, KalshiPythUnderlyingList)
"""Answers to a ``list`` command on a reference-price subscription."""


class KalshiCaptureLine(msgspec.Struct, frozen=True, gc=False):
    """One line of a Kalshi capture file: ``{"recv_ms": <local ms>, "event": <frame>}``."""

    recv_ms: Millis
    event: KalshiMessage


FRAME_DECODER: msgspec.json.Decoder[KalshiMessage] = msgspec.json.Decoder(KalshiMessage)
FRAME_TYPES: frozenset[str] = frozenset(str(t.__struct_config__.tag) for t in get_args(KalshiMessage))
"""The ``type`` of every Kalshi message Hadron decodes (the adapter's ``sniff`` recognises them)."""
CAPTURE_DECODER: msgspec.json.Decoder[KalshiCaptureLine] = msgspec.json.Decoder(KalshiCaptureLine)
