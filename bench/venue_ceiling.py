"""The loopback venues' own ceiling: how many frames/s ``hadron fake-venue … --speed 0`` writes.

``hadron bench live`` measures the client's live path against a loopback venue in its own
process; that figure means something only while the venue is well ahead of the client. This
script measures the venue alone: it starts ``hadron fake-venue kalshi|polymarket --speed 0``
(``--burst`` adds the venue's pre-encoded mode) as ``hadron bench live`` does, subscribes every
market of the capture with a client that does nothing but count WebSocket text frames, and prints
frames/s from the first frame to the last (the stream ends when ``--idle`` seconds pass without a
frame), and the time from the subscription to the first frame.

Clients: ``bytes`` (the default: an ``asyncio.Protocol`` that only keeps the bytes while they
arrive and parses the frame headers afterwards; no per-frame work while measuring, so the figure
is the venue's and the socket's alone), ``raw`` (the same parsing the headers as the bytes
arrive) or ``picows`` (``WSListener.on_ws_frame``, counting: a fast real client, whose per-frame
callback becomes the limit above ~1.5M frames/s). Runs are repeated (``--repeat``; a fresh venue
process each) and each one printed, since the machine is shared::

    PYTHONPATH=. .venv/bin/python bench/venue_ceiling.py --venue kalshi
    PYTHONPATH=. .venv/bin/python bench/venue_ceiling.py --venue polymarket --burst --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CAPTURE = (
    REPO.parent
    / "shared"
    / "data"
    / "zkiihne__kalshi-gold15m-sample"
    / "events"
    / "KXGOLD15M-26AUG102130-30"
    / "2026-08-11.ndjson.gz"
)
MAX_FRAME = 64 << 20


@dataclass
class Run:
    """One measured stream."""

    frames: int = 0
    """Text frames received (command replies included)."""
    bytes: int = 0
    """Payload bytes of those frames."""
    subscribed_at: float = 0.0
    first: float = 0.0
    last: float = 0.0

    def report(self) -> dict[str, Any]:
        span = max(self.last - self.first, 1e-9)
        return {
            "frames": self.frames,
            "seconds": round(span, 3),
            "frames_per_s": round(self.frames / span),
            "payload_mb_per_s": round(self.bytes / span / 1e6, 1),
            "first_frame_after_s": round(self.first - self.subscribed_at, 3),
        }


# -- what to subscribe ----------------------------------------------------------------------------


def subscription(venue: str, capture: Path) -> tuple[str, bytes]:
    """The URL path and first command that subscribe every market of ``capture``."""
    if venue == "kalshi":
        from hadron.venues.kalshi.fake_scenario import load_capture as kalshi_capture  # noqa: TID251 - the venue itself is measured

        tickers = sorted({e.ticker for e in kalshi_capture([capture])})
        params = {"channels": ["orderbook_delta", "trade"], "market_tickers": tickers}
        return "/trade-api/ws/v2", json.dumps({"id": 1, "cmd": "subscribe", "params": params}).encode()
    from hadron.venues.polymarket.fake_scenario import load_capture as polymarket_capture  # noqa: TID251 - as above

    tokens = sorted({a for item in polymarket_capture([capture]) for a in item.assets})
    return "/ws/market", json.dumps({"assets_ids": tokens, "type": "market"}).encode()


# -- the venue process ----------------------------------------------------------------------------


async def start_venue(venue: str, capture: Path, burst: bool) -> tuple[asyncio.subprocess.Process, int]:
    """``hadron fake-venue VENUE --speed 0`` in its own process, as ``hadron bench live`` starts it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    args = ["fake-venue", venue, "--capture", str(capture), "--port", str(port), "--speed", "0"]
    args += ["--log-level", "error"] + (["--burst"] if burst else [])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hadron",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=180)
    if b"ws://" not in line:
        proc.kill()
        raise SystemExit(f"the venue did not start: {line!r}")
    return proc, port


# -- clients: count text frames, nothing else -----------------------------------------------------


async def client_picows(port: int, path: str, command: bytes, run: Run) -> Any:
    from picows import WSListener, WSMsgType, ws_connect

    text = WSMsgType.TEXT
    clock = time.perf_counter

    class Listener(WSListener):  # type: ignore[misc]
        def on_ws_connected(self, transport: Any) -> None:
            run.subscribed_at = clock()
            transport.send(text, command)

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type is text:
                now = clock()
                if not run.frames:
                    run.first = now
                run.frames += 1
                run.bytes += frame.payload_size
                run.last = now

    transport, _ = await ws_connect(Listener, f"ws://127.0.0.1:{port}{path}", max_frame_size=MAX_FRAME)
    return transport.disconnect


async def client_raw(port: int, path: str, command: bytes, run: Run) -> Any:
    loop = asyncio.get_running_loop()
    clock = time.perf_counter

    class Proto(asyncio.Protocol):
        def __init__(self) -> None:
            self.buf = bytearray()
            self.streaming = False

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            key = base64.b64encode(os.urandom(16))
            transport.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
                + b"Sec-WebSocket-Key: "
                + key
                + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )

        def data_received(self, data: bytes) -> None:
            buf = self.buf
            buf += data
            if not self.streaming:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                if not buf.startswith(b"HTTP/1.1 101"):
                    raise SystemExit(f"handshake refused: {bytes(buf[:end])!r}")
                del buf[: end + 4]
                self.streaming = True
                n = len(command)  # a masked text frame (zero mask key)
                head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
                if n >= 1 << 16:
                    head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
                run.subscribed_at = clock()
                self.transport.write(head + b"\0\0\0\0" + command)
            frames, payload, rest = count_text_frames(buf)
            del buf[: len(buf) - rest]
            if frames:
                now = clock()
                if not run.frames:
                    run.first = now
                run.frames += frames
                run.bytes += payload
                run.last = now

    transport, _ = await loop.create_connection(Proto, "127.0.0.1", port)
    return transport.close


def count_text_frames(stream: bytes | bytearray) -> tuple[int, int, int]:
    """``(text frames, their payload bytes, bytes of the last, incomplete frame)`` in ``stream``."""
    pos, size, frames, payload = 0, len(stream), 0, 0
    while size - pos >= 2:
        length = stream[pos + 1] & 0x7F
        head = 2
        if length == 126:
            if size - pos < 4:
                break
            length, head = int.from_bytes(stream[pos + 2 : pos + 4], "big"), 4
        elif length == 127:
            if size - pos < 10:
                break
            length, head = int.from_bytes(stream[pos + 2 : pos + 10], "big"), 10
        if size - pos < head + length:
            break
        if stream[pos] & 0x0F == 1:
            frames += 1
            payload += length
        pos += head + length
    return frames, payload, size - pos


async def client_bytes(port: int, path: str, command: bytes, run: Run) -> Any:
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    received: list[bytes] = []

    class Proto(asyncio.Protocol):
        def __init__(self) -> None:
            self.head = bytearray()

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            key = base64.b64encode(os.urandom(16))
            transport.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
                + b"Sec-WebSocket-Key: "
                + key
                + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )

        def data_received(self, data: bytes) -> None:
            if self.head is not None:
                self.head += data
                end = self.head.find(b"\r\n\r\n")
                if end < 0:
                    return
                if not self.head.startswith(b"HTTP/1.1 101"):
                    raise SystemExit(f"handshake refused: {bytes(self.head[:end])!r}")
                data = bytes(self.head[end + 4 :])
                self.head = None  # type: ignore[assignment]
                n = len(command)  # a masked text frame (zero mask key)
                head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
                if n >= 1 << 16:
                    head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
                run.subscribed_at = clock()
                self.transport.write(head + b"\0\0\0\0" + command)
                if not data:
                    return
            now = clock()
            if not received:
                run.first = now
            received.append(data)
            run.last = now
            run.frames += 1  # chunks while measuring; frames counted at the end

    transport, _ = await loop.create_connection(Proto, "127.0.0.1", port)

    def close() -> None:
        transport.close()
        run.frames, run.bytes, _ = count_text_frames(b"".join(received))

    return close


CLIENTS = {"picows": client_picows, "raw": client_raw, "bytes": client_bytes}


async def measure(venue: str, capture: Path, burst: bool, client: str, idle: float) -> dict[str, Any]:
    path, command = subscription(venue, capture)
    proc, port = await start_venue(venue, capture, burst)
    try:
        run = Run()
        close = await CLIENTS[client](port, path, command, run)
        while not run.frames or time.perf_counter() - run.last < idle:  # noqa: ASYNC110 - polling a counter
            await asyncio.sleep(0.01)
        close()
        return run.report()
    finally:
        proc.terminate()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venue", choices=["kalshi", "polymarket"], default="kalshi")
    parser.add_argument(
        "--capture", type=Path, default=DEFAULT_CAPTURE, help="a Kalshi capture (polymarket: transcoded)"
    )
    parser.add_argument("--burst", action="store_true", help="start the venue with --burst (pre-encoded frames)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="bytes")
    parser.add_argument("--repeat", type=int, default=1, help="runs (a fresh venue each)")
    parser.add_argument("--idle", type=float, default=1.0, help="seconds without a frame that end the stream")
    args = parser.parse_args()
    if not args.capture.exists():
        raise SystemExit(f"capture not found: {args.capture}")
    mode = "burst" if args.burst else "normal"
    for i in range(args.repeat):
        result = asyncio.run(measure(args.venue, args.capture, args.burst, args.client, args.idle))
        print(
            f"{args.venue} {mode} run {i + 1}/{args.repeat} ({args.client}): {result['frames_per_s']:,} frames/s  "
            f"({result['frames']:,} frames in {result['seconds']} s, {result['payload_mb_per_s']} MB/s payload; "
            f"first frame {result['first_frame_after_s']} s after subscribing)",
            flush=True,
        )


if __name__ == "__main__":
    main()
