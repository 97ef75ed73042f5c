"""Logging setup: structlog to stderr, human-readable or JSON lines."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from hadron.config import mask_url


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    # Resolve sys.stderr at each use: it may be replaced (tests, daemonisation) after configure
    return structlog.PrintLogger(file=sys.stderr)


_SECRET_KEYS = ("secret", "token", "password", "private_key", "api_key", "pem", "signature", "authorization")


def redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask values of secret-named fields and anything that looks like a PEM key;
    in every other text, the credentials of URLs and token parameters (:func:`hadron.config.mask_url`)."""
    for key, value in list(event.items()):
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_KEYS) and key != "event":
            event[key] = "**********"
        elif isinstance(value, str) and "-----BEGIN" in value:
            event[key] = value.split("-----BEGIN", 1)[0] + "**********"
        elif isinstance(value, str) and ("@" in value or "=" in value):
            event[key] = mask_url(value)
    return event


def configure(level: str = "warning", *, json: bool = False) -> None:
    """Send Hadron's logs to stderr at ``level`` (debug, info, warning, error).

    Raises:
        ValueError: unknown level name.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use debug, info, warning or error")
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            redact,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
