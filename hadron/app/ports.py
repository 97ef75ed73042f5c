"""Ports the command line is asked to listen on: checked before anything starts.

A port out of range, one another process listens on, an address that is not this machine's or a
privileged port is a :class:`~hadron.errors.ConfigError` naming the setting (``--port``,
``runtime.port`` …) and the fix, raised before the runtime opens its stores and feeds (uvicorn
would otherwise log the bind error and exit the process from inside the event loop).
"""

from __future__ import annotations

import errno
import os
import socket

from hadron.errors import ConfigError


def check_port_range(port: int, setting: str, zero: str) -> None:
    """Raise :class:`ConfigError` unless ``port`` is 0 to 65535; ``zero`` says what 0 means.

    Raises:
        ConfigError: ``port`` out of range; the message names ``setting``.
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"{setting} is {port}, not a TCP port: use 1 to 65535, or 0 for {zero}")


def check_listen(host: str, port: int, setting: str, zero: str) -> None:
    """Raise :class:`ConfigError` when ``host:port`` cannot be listened on right now, the way
    asyncio's servers bind (``SO_REUSEADDR``, IPv6 sockets v6-only); port 0 only has its range
    checked. ``zero`` says what port 0 means for ``setting`` (the fix offered).

    Raises:
        ConfigError: out of range, in use, an address not of this machine, a privileged port;
            the message names ``setting``.
    """
    check_port_range(port, setting, zero)
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"{setting} is {port}: cannot listen on {host!r} ({exc.strerror})") from None
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:  # an address family this machine lacks (IPv6 off): the server skips it too
            continue
        with probe:
            if os.name == "posix":
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                where = f"{host}:{port}"
                if exc.errno == errno.EADDRINUSE:
                    reason = f"{where} is already in use (another hadron run or demo?): stop it, or choose another port"
                elif exc.errno == errno.EACCES:
                    reason = f"{where}: permission denied (ports below 1024 need privileges): choose a port above 1023"
                elif exc.errno == errno.EADDRNOTAVAIL:
                    reason = f"{host} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface"
                else:
                    reason = f"cannot listen on {where} ({exc.strerror or exc})"
                raise ConfigError(f"{setting} is {port}: {reason} (0: {zero})") from None
