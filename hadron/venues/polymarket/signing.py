"""Polymarket CLOB V2 signing, typed: the official client's order builder, headers and HMAC.

Everything cryptographic here is done by the official ``py_clob_client_v2`` (1.2.1) package;
this module only gives it types and Hadron's units (``docs/protocols/polymarket.md#orders``):

* orders: ``order_utils.ExchangeOrderBuilderV2`` signs the EIP-712 ``Order`` (domain
  ``"Polymarket CTF Exchange"``, version ``"2"``, the chain id and the exchange contract, or the
  neg-risk exchange for a neg-risk market: ``config.get_contract_config``); the amounts per tick
  size are ``order_builder.builder.OrderBuilder.get_order_amounts`` with its ``ROUNDING_CONFIG``;
  the JSON posted is ``order_to_json_v2``;
* requests: ``headers.create_level_1_headers`` (the ``ClobAuth`` EIP-712 signature, for
  ``/auth/*``) and ``create_level_2_headers`` (``signing.hmac.build_hmac_signature``: HMAC-SHA256
  over timestamp + method + path + body with the base64 API secret).

The verifying side (the loopback exchange) rebuilds the same typed data and recovers the signer
with ``eth_account`` (:func:`recover_order_signer`, :func:`recover_clob_auth`).

Units at this edge: prices int 1/10,000 USD, sizes int 1/1,000,000 share; on the wire amounts are
integers of 6 decimals (pUSD and outcome tokens both have 6), so a size is already a token amount.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple

_RECURSION_LIMIT = sys.getrecursionlimit()

from eth_account import Account  # noqa: E402 - between the recursion limit's save and restore
from eth_account.messages import encode_typed_data  # noqa: E402
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs  # noqa: E402
from py_clob_client_v2.config import get_contract_config  # noqa: E402
from py_clob_client_v2.headers.headers import (  # noqa: E402
    create_level_1_headers,
    create_level_2_headers,
)
from py_clob_client_v2.order_builder.builder import (  # noqa: E402
    ROUNDING_CONFIG,
    OrderBuilder,
)
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import (  # noqa: E402
    ExchangeOrderBuilderV2,
)
from py_clob_client_v2.order_utils.model.order_data_v2 import (  # noqa: E402
    OrderDataV2,
    OrderV2,
    SignedOrderV2,
    order_to_json_v2,
)
from py_clob_client_v2.order_utils.model.side import Side as ClobSide  # noqa: E402
from py_clob_client_v2.order_utils.model.signature_type_v2 import (  # noqa: E402
    SignatureTypeV2,
)
from py_clob_client_v2.signer import Signer  # noqa: E402
from py_clob_client_v2.signing.eip712 import (  # noqa: E402
    CLOB_DOMAIN_NAME,
    CLOB_VERSION,
    MSG_TO_SIGN,
)
from py_clob_client_v2.signing.hmac import build_hmac_signature  # noqa: E402

from hadron.model.units import PRICE_SCALE, SIZE_SCALE  # noqa: E402

sys.setrecursionlimit(_RECURSION_LIMIT)
# py_ecc (imported under eth_account) raises the interpreter's recursion limit to 100,000 when it
# is imported: a hostile, deeply nested frame must still meet the interpreter's own bound in the
# decoders (a RecursionError, dead-lettered) rather than run the C stack out

TICK_SIZES: Final[Mapping[int, str]] = {1000: "0.1", 100: "0.01", 50: "0.005", 25: "0.0025", 10: "0.001", 1: "0.0001"}
"""The venue's tick sizes (1/10,000 USD → the venue's string), the keys of the official
builder's ``ROUNDING_CONFIG`` (``TickSize`` in ``clob-client-v2:src/types/clob.ts``)."""

BYTES32_ZERO: Final = "0x" + "0" * 64
SIGNATURE_TYPES: Final = (0, 1, 2)
"""Signature types Hadron signs with: 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE
(``order_utils.model.signature_type_v2``; 3, POLY_1271 smart-contract wallets, is not supported)."""

OrderSideText = Literal["BUY", "SELL"]


class ApiCredentials(NamedTuple):
    """The CLOB L2 API credentials (``apiKey``, ``secret``, ``passphrase``)."""

    api_key: str
    secret: str
    passphrase: str

    def __repr__(self) -> str:
        return "ApiCredentials('***')"


def tick_text(tick: int) -> str:
    """The venue's tick string of ``tick`` (1/10,000 USD): ``100`` → ``"0.01"``.

    Raises:
        ValueError: not one of :data:`TICK_SIZES`.
    """
    try:
        return TICK_SIZES[tick]
    except KeyError:
        raise ValueError(f"tick {tick} (1/10,000 USD) is not a Polymarket tick size {sorted(TICK_SIZES)}") from None


def exchange_address(chain_id: int, neg_risk: bool) -> str:
    """The V2 exchange contract that verifies an order: CTF Exchange V2, or the Neg Risk CTF
    Exchange V2 for a neg-risk market (``config.get_contract_config``: ``exchange_v2``,
    ``neg_risk_exchange_v2``).

    Raises:
        ValueError: a chain the official client does not know (137 Polygon, 80002 Amoy).
    """
    try:
        config = get_contract_config(chain_id)
    except Exception as exc:  # the official client raises a bare Exception
        raise ValueError(str(exc)) from None
    return str(config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2)


def order_amounts(side: OrderSideText, price: int, size: int, tick: int) -> tuple[int, int]:
    """``(makerAmount, takerAmount)`` of a limit order, 6-decimal integers, as the official
    builder computes them for the market's tick (``OrderBuilder.get_order_amounts``): a BUY
    makes pUSD (size rounded down to 2 decimals × price) and takes shares; a SELL the reverse.

    ``price`` int 1/10,000 USD (on the tick: the builder would round it), ``size`` int
    1/1,000,000 share. The builder works in binary floats; its inputs are converted here, once,
    from the exact decimals.

    Raises:
        ValueError: an unknown tick or side.
    """
    config = ROUNDING_CONFIG[tick_text(tick)]
    builder = OrderBuilder(signer=None)
    _, maker, taker = builder.get_order_amounts(
        side, float(Decimal(size) / SIZE_SCALE), float(Decimal(price) / PRICE_SCALE), config
    )
    return int(maker), int(taker)


def order_salt(client_order_id: str) -> int:
    """The order's ``salt`` derived from Hadron's ``client_order_id`` (SHA-256, 53 bits: a safe
    JSON integer), so a resent order is the same order, with the same hash, which the venue
    refuses as a duplicate."""
    digest = hashlib.sha256(b"hadron-polymarket-salt:" + client_order_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 11


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedOrder:
    """A signed CLOB V2 order (the fields of ``SignedOrderV2``), its hash and its exchange.

    Amounts are 6-decimal integers; ``timestamp_ms`` Unix ms; ``order_hash`` the EIP-712 digest,
    which is the venue's ``orderID``.
    """

    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: OrderSideText
    signature_type: int
    timestamp_ms: int
    metadata: str
    builder: str
    expiration: str
    signature: str
    order_hash: str
    exchange: str

    def payload(self, owner: str, order_type: str, *, post_only: bool = False) -> dict[str, Any]:
        """The ``POST /order`` body entry (``order_to_json_v2``): ``{"order": {…}, "owner": <API
        key>, "orderType": "GTC"|"FOK"|"FAK"|"GTD", "deferExec": false, "postOnly": …}``."""
        official = SignedOrderV2(
            salt=str(self.salt),
            maker=self.maker,
            signer=self.signer,
            tokenId=self.token_id,
            makerAmount=str(self.maker_amount),
            takerAmount=str(self.taker_amount),
            side=ClobSide.BUY if self.side == "BUY" else ClobSide.SELL,
            signatureType=SignatureTypeV2(self.signature_type),
            timestamp=str(self.timestamp_ms),
            metadata=self.metadata,
            builder=self.builder,
            expiration=self.expiration,
            signature=self.signature,
        )
        payload: dict[str, Any] = order_to_json_v2(official, owner, order_type, post_only, False)
        return payload


class OrderSigner:
    """Signs orders and requests for one wallet (the key stays inside the official ``Signer``).

    Args:
        private_key: the wallet's key, hex (revealed here only; never logged).
        chain_id: 137 Polygon or 80002 Amoy.
        funder: the address holding the funds (a proxy or Safe wallet), ``""``: the signer's.
        signature_type: 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE.

    Raises:
        ValueError: a malformed key, an unknown chain or signature type.
    """

    def __init__(self, private_key: str, chain_id: int, *, funder: str = "", signature_type: int = 0) -> None:
        if signature_type not in SIGNATURE_TYPES:
            raise ValueError(f"signature_type {signature_type} must be 0 (EOA), 1 (POLY_PROXY) or 2 (POLY_GNOSIS_SAFE)")
        exchange_address(chain_id, False)  # the chain is known
        try:
            self._signer = Signer(private_key, chain_id)
        except Exception:  # the key is never echoed
            raise ValueError("the private key is not a valid secp256k1 key (hex)") from None
        self.chain_id = chain_id
        self.address: str = str(self._signer.address())
        self.funder = funder or self.address
        self.signature_type = signature_type

    def __repr__(self) -> str:
        return f"OrderSigner(address={self.address!r}, chain_id={self.chain_id})"

    def sign(
        self,
        *,
        token_id: str,
        side: OrderSideText,
        maker_amount: int,
        taker_amount: int,
        salt: int,
        timestamp_ms: int,
        neg_risk: bool = False,
    ) -> SignedOrder:
        """Sign one V2 order with ``ExchangeOrderBuilderV2`` (maker = funder, signer = the key's
        address; metadata and builder zero; no expiration)."""
        exchange = exchange_address(self.chain_id, neg_risk)
        builder = ExchangeOrderBuilderV2(exchange, self.chain_id, self._signer, generate_salt=lambda: str(salt))
        data = OrderDataV2(
            maker=self.funder,
            tokenId=token_id,
            makerAmount=str(maker_amount),
            takerAmount=str(taker_amount),
            side=ClobSide.BUY if side == "BUY" else ClobSide.SELL,
            signer=self.address,
            signatureType=SignatureTypeV2(self.signature_type),
            timestamp=str(timestamp_ms),
            metadata=BYTES32_ZERO,
            builder=BYTES32_ZERO,
            expiration="0",
        )
        signed = builder.build_signed_order(data)
        digest = builder.build_order_hash(builder.build_order_typed_data(signed))
        return SignedOrder(
            salt=int(signed.salt),
            maker=str(signed.maker),
            signer=str(signed.signer),
            token_id=str(signed.tokenId),
            maker_amount=int(signed.makerAmount),
            taker_amount=int(signed.takerAmount),
            side=side,
            signature_type=int(signed.signatureType),
            timestamp_ms=int(signed.timestamp),
            metadata=str(signed.metadata),
            builder=str(signed.builder),
            expiration=str(signed.expiration),
            signature=str(signed.signature),
            order_hash=str(digest),
            exchange=exchange,
        )

    def l1_headers(self, timestamp: int, nonce: int = 0) -> dict[str, str]:
        """``POLY_ADDRESS``, ``POLY_SIGNATURE`` (the ``ClobAuth`` EIP-712 signature),
        ``POLY_TIMESTAMP`` (Unix s), ``POLY_NONCE`` (``create_level_1_headers``)."""
        headers: dict[str, str] = create_level_1_headers(self._signer, nonce=nonce, timestamp=timestamp)
        return {str(k): str(v) for k, v in headers.items()}

    def l2_headers(self, creds: ApiCredentials, method: str, path: str, body: str, timestamp: int) -> dict[str, str]:
        """``POLY_ADDRESS``, ``POLY_SIGNATURE`` (HMAC of ``timestamp + method + path + body``),
        ``POLY_TIMESTAMP``, ``POLY_API_KEY``, ``POLY_PASSPHRASE`` (``create_level_2_headers``).
        ``body``: the exact text sent (``""``: none); ``path`` without the query string."""
        args = RequestArgs(method=method, request_path=path, body=body or None, serialized_body=body or None)
        official = ApiCreds(api_key=creds.api_key, api_secret=creds.secret, api_passphrase=creds.passphrase)
        headers: dict[str, str] = create_level_2_headers(self._signer, official, args, timestamp=timestamp)
        return {str(k): str(v) for k, v in headers.items()}


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """The L2 ``POLY_SIGNATURE``: ``signing.hmac.build_hmac_signature`` (URL-safe base64
    HMAC-SHA256 with the URL-safe base64 secret).

    Raises:
        ValueError: a secret that is not base64 (binascii.Error is a ValueError).
    """
    return str(build_hmac_signature(secret, timestamp, method, path, body or None))


def _order_v2(order: Mapping[str, Any]) -> Any:
    # The official OrderV2 of a posted order's JSON (``order_to_json_v2``'s ``order``)
    side = str(order["side"]).upper()
    if side not in ("BUY", "SELL"):
        raise ValueError(f"side {order['side']!r} is not BUY or SELL")
    return OrderV2(
        salt=str(int(order["salt"])),
        maker=str(order["maker"]),
        signer=str(order["signer"]),
        tokenId=str(order["tokenId"]),
        makerAmount=str(int(order["makerAmount"])),
        takerAmount=str(int(order["takerAmount"])),
        side=ClobSide.BUY if side == "BUY" else ClobSide.SELL,
        signatureType=SignatureTypeV2(int(order["signatureType"])),
        timestamp=str(int(order["timestamp"])),
        metadata=str(order.get("metadata") or BYTES32_ZERO),
        builder=str(order.get("builder") or BYTES32_ZERO),
        expiration=str(order.get("expiration") or "0"),
    )


def order_typed_data(order: Mapping[str, Any], *, chain_id: int, neg_risk: bool) -> dict[str, Any]:
    """The EIP-712 typed data of a posted order (its JSON ``order`` object), for the exchange
    that verifies it (``ExchangeOrderBuilderV2.build_order_typed_data``).

    Raises:
        ValueError, KeyError, TypeError: a malformed order.
    """
    builder = ExchangeOrderBuilderV2(exchange_address(chain_id, neg_risk), chain_id, None)
    typed: dict[str, Any] = builder.build_order_typed_data(_order_v2(order))
    return typed


def order_hash(order: Mapping[str, Any], *, chain_id: int, neg_risk: bool) -> str:
    """The order's EIP-712 hash, ``0x`` + 64 hex digits: the venue's ``orderID``
    (``ExchangeOrderBuilderV2.build_order_hash``)."""
    builder = ExchangeOrderBuilderV2(exchange_address(chain_id, neg_risk), chain_id, None)
    return str(builder.build_order_hash(builder.build_order_typed_data(_order_v2(order))))


def recover_order_signer(order: Mapping[str, Any], *, chain_id: int, neg_risk: bool) -> str:
    """The address that signed a posted order (``eth_account`` ``Account.recover_message`` on
    ``encode_typed_data`` of :func:`order_typed_data`), checksummed.

    Raises:
        ValueError, KeyError, TypeError: a malformed order or signature.
    """
    typed = order_typed_data(order, chain_id=chain_id, neg_risk=neg_risk)
    return str(Account.recover_message(encode_typed_data(full_message=typed), signature=str(order["signature"])))


def recover_clob_auth(address: str, timestamp: str, nonce: int, signature: str, *, chain_id: int) -> str:
    """The address that signed an L1 ``ClobAuth`` message (``signing.eip712``: domain
    ``ClobAuthDomain`` version ``1``; ``{address, timestamp, nonce, message}`` with the fixed
    attestation text), checksummed.

    Raises:
        ValueError: a malformed signature or address.
    """
    typed = {
        "primaryType": "ClobAuth",
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "domain": {"name": CLOB_DOMAIN_NAME, "version": CLOB_VERSION, "chainId": chain_id},
        "message": {"address": address, "timestamp": timestamp, "nonce": nonce, "message": MSG_TO_SIGN},
    }
    return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))


__all__ = [
    "BYTES32_ZERO",
    "SIGNATURE_TYPES",
    "TICK_SIZES",
    "ApiCredentials",
    "OrderSideText",
    "OrderSigner",
    "SignedOrder",
    "exchange_address",
    "hmac_signature",
    "order_amounts",
    "order_hash",
    "order_salt",
    "order_typed_data",
    "recover_clob_auth",
    "recover_order_signer",
    "tick_text",
]
