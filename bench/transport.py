"""WebSocket client transports side by side: websockets vs picows vs aiohttp, asyncio vs uvloop.

Groundwork for choosing the live transport by measurement. One run, the same frames for every
client: the first ``--frames`` lines of the busiest Kalshi capture (each line's ``event`` sent
verbatim as one text frame). A loopback server in its own process pre-encodes every frame once
and writes the whole stream in 1 MiB chunks as fast as the socket takes them, so the figure is
the client's: socket read → WebSocket parse → ``FRAME_DECODER.decode`` (Hadron's Kalshi msgspec
decoder) of each frame. Rows:

* ``decode only``: the same payloads decoded in memory (the ceiling for any transport);
* ``raw socket``: an ``asyncio.Protocol`` that only counts bytes (no WebSocket parse, no decode),
  which shows the server and the socket are not the bottleneck;
* ``websockets`` (``recv(decode=False)``, as ``hadron/venues/kalshi/ws.py``), ``picows``
  (``WSListener.on_ws_frame``, payload as ``memoryview``), ``aiohttp`` (``ws.receive()``, text
  payload as ``str``); each on the default asyncio loop and on uvloop.

Configurations run interleaved, ``--repeat`` rounds (best kept). Not part of the test suite; run it
from a separate venv holding the candidate packages (see ``docs/bench-transport.md``)::

    python3 -m venv ../tbench && ../tbench/bin/pip install picows uvloop aiohttp websockets msgspec
    PYTHONPATH=. ../tbench/bin/python bench/transport.py --frames 80000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gzip
import hashlib
import importlib.util
import multiprocessing as mp
import os
import platform
import struct
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO.parent / "shared" / "data" / "zkiihne__kalshi-gold15m-sample" / "events"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CHUNK = 1 << 20  # bytes the server hands the transport per write
MAX_FRAME = 4 << 20  # Hadron's Kalshi MAX_FRAME_BYTES
HEADER = (
    "| client | loop | frames/s | µs/frame (wall) | µs/frame (client CPU) | vs decode only | vs websockets+asyncio |"
)
GO = b"\x81\x82\x00\x00\x00\x00go"  # a masked text frame "go" (zero mask key): the client is ready

# -- frames and decoder ---------------------------------------------------------------------------


class _Line(msgspec.Struct):
    event: msgspec.Raw


def busiest_capture(root: Path) -> Path:
    """The largest ``*.ndjson.gz`` under ``root`` (most frames for one market)."""
    files = sorted(root.rglob("*.ndjson.gz"), key=lambda p: p.stat().st_size, reverse=True)
    if not files:
        raise SystemExit(f"no *.ndjson.gz capture under {root}")
    return files[0]


def load_frames(path: Path, n: int) -> list[bytes]:
    """The first ``n`` lines' ``event`` objects, byte for byte as captured."""
    decode = msgspec.json.Decoder(_Line).decode
    out: list[bytes] = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if len(out) == n:
                break
            if line.strip():
                out.append(bytes(decode(line).event))
    return out


def frame_decoder() -> tuple[msgspec.json.Decoder[Any], str]:
    """Hadron's ``FRAME_DECODER``; when the package's other dependencies are missing from this venv,
    ``messages.py`` (stdlib + msgspec only) is loaded from the repository by path."""
    try:
        # the wire decoder itself is what is measured, not a venue reached from the core
        from hadron.venues.kalshi.messages import FRAME_DECODER  # noqa: TID251

        return FRAME_DECODER, "hadron.venues.kalshi.messages (package import)"
    except ImportError:
        pass
    path = REPO / "hadron" / "venues" / "kalshi" / "messages.py"
    spec = importlib.util.spec_from_file_location("_hadron_kalshi_messages", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # msgspec resolves the structs' annotations through it
    spec.loader.exec_module(module)
    return module.FRAME_DECODER, f"{path.relative_to(REPO)} (loaded by path)"


def encode_stream(frames: list[bytes]) -> bytes:
    """Every frame as an unmasked server text frame, then a close frame (1000)."""
    parts: list[bytes] = []
    for payload in frames:
        n = len(payload)
        if n < 126:
            parts.append(struct.pack("!BB", 0x81, n))
        elif n < 1 << 16:
            parts.append(struct.pack("!BBH", 0x81, 126, n))
        else:
            parts.append(struct.pack("!BBQ", 0x81, 127, n))
        parts.append(payload)
    parts.append(b"\x88\x02\x03\xe8")
    return b"".join(parts)


# -- loopback server (own process) ----------------------------------------------------------------


async def _serve_one(blob: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())  # RFC 6455's accept key
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await reader.read(64)  # the client's "go" frame
        writer.transport.set_write_buffer_limits(high=4 * CHUNK)
        view = memoryview(blob)
        for i in range(0, len(view), CHUNK):
            writer.write(view[i : i + CHUNK])
            await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(64), 5)  # the client's close frame (or EOF)
    except (OSError, asyncio.IncompleteReadError, StopIteration):
        pass
    finally:
        writer.close()


def _server_main(blob: bytes, port_out: Any) -> None:
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None

    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _serve_one(blob, r, w), "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())


# -- clients --------------------------------------------------------------------------------------


@dataclass
class Run:
    frames: int
    wall_s: float
    cpu_s: float
    last: Any = None


class _Clock:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()

    def stop(self, frames: int, last: Any = None) -> Run:
        return Run(frames, time.perf_counter() - self.t0, time.process_time() - self.c0, last)


async def client_raw(url: str, expected: int, total_bytes: int, decode: Any) -> Run:
    """Bytes off the socket, counted: no WebSocket parse, no decode."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Run] = loop.create_future()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])

    class Proto(asyncio.Protocol):
        def __init__(self) -> None:
            self.buf = b""
            self.streaming = False
            self.got = 0
            self.clock: _Clock | None = None

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            key = base64.b64encode(os.urandom(16))
            transport.write(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )

        def data_received(self, data: bytes) -> None:
            if not self.streaming:
                self.buf += data
                if b"\r\n\r\n" in self.buf:
                    self.streaming = True
                    self.transport.write(GO)
                    self.clock = _Clock()
                return
            self.got += len(data)
            if self.got >= total_bytes and not done.done():
                assert self.clock is not None
                done.set_result(self.clock.stop(expected))
                self.transport.close()

    await loop.create_connection(Proto, "127.0.0.1", port)
    return await done


async def client_websockets(url: str, expected: int, total_bytes: int, decode: Any) -> Run:
    from websockets.asyncio.client import connect

    # Hadron's settings (hadron/venues/wsclient.py); compression is not negotiated by this server.
    async with connect(
        url, max_size=MAX_FRAME, ping_interval=20, ping_timeout=20, close_timeout=2, compression=None
    ) as ws:
        await ws.send("go")
        clock = _Clock()
        recv = ws.recv
        n, last = 0, None
        while n < expected:
            last = decode(await recv(decode=False))
            n += 1
        return clock.stop(n, last)


async def client_picows(url: str, expected: int, total_bytes: int, decode: Any) -> Run:
    from picows import WSListener, WSMsgType, ws_connect

    loop = asyncio.get_running_loop()
    done: asyncio.Future[Run] = loop.create_future()
    text, close = WSMsgType.TEXT, WSMsgType.CLOSE

    class Listener(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.n = 0
            self.last: Any = None
            self.clock = _Clock()

        def on_ws_connected(self, transport: Any) -> None:
            transport.send(text, b"go")
            self.clock = _Clock()

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            kind = frame.msg_type
            if kind == text:
                self.last = decode(frame.get_payload_as_memoryview())
                self.n += 1
                if self.n == expected and not done.done():
                    done.set_result(self.clock.stop(self.n, self.last))
                    transport.send_close()
                    transport.disconnect()
            elif kind == close:
                transport.disconnect()

        def on_ws_disconnected(self, transport: Any) -> None:
            if not done.done():
                done.set_exception(RuntimeError(f"picows: disconnected after {self.n} frames"))

    transport, _ = await ws_connect(Listener, url, max_frame_size=MAX_FRAME)
    result = await done
    await transport.wait_disconnected()
    return result


async def client_aiohttp(url: str, expected: int, total_bytes: int, decode: Any) -> Run:
    import aiohttp

    text = aiohttp.WSMsgType.TEXT
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, max_msg_size=MAX_FRAME, compress=0, autoping=True) as ws,
    ):
        await ws.send_str("go")
        clock = _Clock()
        receive = ws.receive
        n, last = 0, None
        while n < expected:
            msg = await receive()
            if msg.type is not text:
                raise RuntimeError(f"aiohttp: {msg.type} after {n} frames")
            last = decode(msg.data)
            n += 1
        return clock.stop(n, last)


Client = Callable[[str, int, int, Any], Coroutine[Any, Any, Run]]
CLIENTS: dict[str, tuple[str, Client]] = {
    "raw socket": ("", client_raw),
    "websockets": ("websockets", client_websockets),
    "picows": ("picows", client_picows),
    "aiohttp": ("aiohttp", client_aiohttp),
}


def loops() -> dict[str, Callable[[], asyncio.AbstractEventLoop] | None]:
    out: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"asyncio": None}
    try:
        import uvloop

        out["uvloop"] = uvloop.new_event_loop
    except ImportError:
        print("uvloop not installed: skipped", file=sys.stderr)
    return out


def available(package: str) -> bool:
    return not package or importlib.util.find_spec(package) is not None


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# -- main -----------------------------------------------------------------------------------------


def decode_only(frames: list[bytes], decode: Any) -> Run:
    clock = _Clock()
    last = None
    for payload in frames:
        last = decode(payload)
    return clock.stop(len(frames), last)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=80_000)
    ap.add_argument("--repeat", type=int, default=3, help="rounds, best kept (default 3)")
    ap.add_argument("--capture", type=Path, default=None, help="capture file (default: the busiest)")
    args = ap.parse_args(argv)

    path = args.capture or busiest_capture(EVENTS)
    frames = load_frames(path, args.frames)
    decoder, decoder_from = frame_decoder()
    decode = decoder.decode
    blob = encode_stream(frames)
    payload_bytes = sum(map(len, frames))

    recv_end, send_end = mp.Pipe(duplex=False)
    server = mp.get_context("fork").Process(target=_server_main, args=(blob, send_end), daemon=True)
    server.start()
    url = f"ws://127.0.0.1:{recv_end.recv()}/"

    event_loops = loops()
    configs = [
        (name, loop_name) for name, (package, _) in CLIENTS.items() for loop_name in event_loops if available(package)
    ]
    for name, (package, _) in CLIENTS.items():
        if not available(package):
            print(f"{package} not installed: {name} skipped", file=sys.stderr)

    reference = decode_only(frames, decode).last
    best: dict[tuple[str, str], Run] = {}
    try:
        for _ in range(args.repeat):
            run = decode_only(frames, decode)
            key = ("decode only", "-")
            if key not in best or run.wall_s < best[key].wall_s:
                best[key] = run
            for name, loop_name in configs:
                client = CLIENTS[name][1]
                with asyncio.Runner(loop_factory=event_loops[loop_name]) as runner:
                    run = runner.run(client(url, len(frames), len(blob), decode))
                if name != "raw socket" and (run.frames != len(frames) or run.last != reference):
                    raise SystemExit(f"{name}/{loop_name}: frames or last frame differ from the capture")
                if (name, loop_name) not in best or run.wall_s < best[name, loop_name].wall_s:
                    best[name, loop_name] = run
    finally:
        server.terminate()
        server.join()

    print(f"capture: {path.name} ({path.parent.name}), first {len(frames):,} frames, ")
    print(f"{payload_bytes / len(frames):.0f} B/frame on average, {len(blob) / 1e6:.1f} MB on the wire")
    print(f"decoder: FRAME_DECODER from {decoder_from}")
    print(f"cpu: {cpu_model()} ({os.cpu_count()} logical), {platform.system()} {platform.release()}")
    versions = ", ".join(f"{p} {version(p)}" for p in ("websockets", "picows", "aiohttp", "uvloop", "msgspec"))
    print(f"python {platform.python_version()}; {versions}")
    print(f"best of {args.repeat}; client CPU = process time of the client process (server excluded)\n")

    base = len(frames) / best["decode only", "-"].wall_s
    ws_key = ("websockets", "asyncio")
    ref = len(frames) / best[ws_key].wall_s if ws_key in best else None
    print(HEADER)
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, loop_name), run in best.items():
        fps = len(frames) / run.wall_s
        vs_ref = f"{fps / ref:.2f}×" if ref else "-"
        print(
            f"| {name} | {loop_name} | {fps:,.0f} | {1e6 * run.wall_s / len(frames):.2f} "
            f"| {1e6 * run.cpu_s / len(frames):.2f} | {fps / base:.2f}× | {vs_ref} |"
        )


if __name__ == "__main__":
    main()
