"""Dead-letter file: every frame Hadron could not use, kept byte for byte.

NDJSON, one object per rejected frame::

    {"source": "<file or connection>", "conn": "<connection>", "error": "<why>",
     "raw": "<the frame as text>"}            # when the bytes are valid UTF-8
    {"source": …, "conn": …, "error": …, "raw_b64": "<base64 of the exact bytes>"}   # otherwise

The file is created on the first rejection only, and flushed after every line. A storage fault
(disk full…) never reaches the stream that rejected the frame: the file stops (``error``, logged
once) and later rejections are only counted (``lost``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import IO

import msgspec
import structlog

from hadron.errors import RecordingError
from hadron.store.recorder import storage_error

log = structlog.get_logger("hadron.deadletter")


class DeadLetterFile:
    """Appends rejected frames to ``path`` (created, with its folder, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.source = ""
        """Set by the reader to the file (or socket) the next frames come from."""
        self._fh: IO[bytes] | None = None
        self._encoder = msgspec.json.Encoder()
        self.error: RecordingError | None = None
        """The storage fault that stopped the file (``None`` while it writes)."""
        self.lost = 0
        """Rejected frames not kept because of :attr:`error`."""

    def write(self, raw: bytes, error: str, conn: str) -> None:
        """Keep ``raw`` exactly, with ``error`` and where it came from (after a storage fault:
        only counted in :attr:`lost`; never raises one)."""
        if self.error is not None:
            self.lost += 1
            return
        record: dict[str, str] = {"source": self.source, "conn": conn, "error": error}
        try:
            record["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            record["raw_b64"] = base64.b64encode(raw).decode("ascii")
        try:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("ab")
            self._fh.write(self._encoder.encode(record) + b"\n")
            self._fh.flush()
        except OSError as exc:
            self.error = storage_error(exc, self.path, "cannot write a dead letter")
            self.lost += 1
            log.error("dead letters stopped: storage fault", error=str(self.error))
            self.close()
            return
        self.count += 1

    def close(self) -> None:
        """Close the file if it was opened (a storage fault on the last flush is not raised)."""
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                fh.close()
            except OSError as exc:
                self.error = self.error or storage_error(exc, self.path, "cannot close")
