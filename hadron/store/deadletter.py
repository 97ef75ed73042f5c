"""Dead-letter file: every frame Hadron could not use, kept byte for byte.

NDJSON, one object per rejected frame::

    {"source": "<file or connection>", "conn": "<connection>", "error": "<why>",
     "raw": "<the frame as text>"}            # when the bytes are valid UTF-8
    {"source": …, "conn": …, "error": …, "raw_b64": "<base64 of the exact bytes>"}   # otherwise

The file is created on the first rejection only, and flushed after every line.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import IO

import msgspec


class DeadLetterFile:
    """Appends rejected frames to ``path`` (created, with its folder, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.source = ""
        """Set by the reader to the file (or socket) the next frames come from."""
        self._fh: IO[bytes] | None = None
        self._encoder = msgspec.json.Encoder()

    def write(self, raw: bytes, error: str, conn: str) -> None:
        """Keep ``raw`` exactly, with ``error`` and where it came from."""
        record: dict[str, str] = {"source": self.source, "conn": conn, "error": error}
        try:
            record["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            record["raw_b64"] = base64.b64encode(raw).decode("ascii")
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("ab")
        self._fh.write(self._encoder.encode(record) + b"\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        """Close the file if it was opened."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
