"""What `hadron run --config` reads before it starts, and how the CLI reaches a running runtime."""

from __future__ import annotations

import socket

import pytest

from hadron.app.control_client import ControlError, request
from hadron.app.launch import parse_shard
from hadron.errors import ConfigError


def test_a_shard_is_index_over_count() -> None:
    assert parse_shard(None) == (0, 1)
    assert parse_shard("1/2") == (1, 2)
    for bad in ("1", "a/2", "1/0", "-1/2", "1/2/3"):
        with pytest.raises(ConfigError, match=r"--shard .*: use I/N"):
            parse_shard(bad)


def test_a_control_url_that_is_not_http_is_a_setting_error() -> None:
    with pytest.raises(ConfigError, match=r"--url ftp://127.0.0.1:8765: not an http\(s\) URL"):
        request("ftp://127.0.0.1:8765", "/api/status")
    with pytest.raises(ConfigError, match=r"Port out of range"):
        request("http://127.0.0.1:99999", "/api/status")


def test_a_control_endpoint_nobody_serves_is_a_control_error() -> None:
    with socket.socket() as probe:  # a port just free: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ControlError, match=rf"control endpoint http://127.0.0.1:{port}"):
        request(f"http://127.0.0.1:{port}", "/api/status", token="t")
