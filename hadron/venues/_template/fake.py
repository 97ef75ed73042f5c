"""Phase 6: a loopback copy of the venue for tests and benchmarks (:class:`hadron.venues.base.FakeVenueHost`).

Serve a recording's frames over a local WebSocket at a chosen speed
(:mod:`hadron.venues.loopback` has the framing and burst helpers), answer subscriptions the way
the venue does, and inject faults (disconnects, gaps, bad frames) from a fault spec, so the live
session can be tested without the network.

Milestone: ``hadron fake-venue --venue <venue>`` serves a capture and the session of phase 4
streams it to LIVE books (see ``tests/integration/test_fault_matrix.py``).
"""

from __future__ import annotations

from hadron.venues.base import FakeVenueOptions


async def fake_venue(options: FakeVenueOptions) -> object:
    """Serve ``options.captures`` until ``options.stop`` (or a signal); return the server object
    (``FakeVenueHost.fake_venue``).

    Raises:
        ConfigError: a bad fault spec or no playable capture.
    """
    raise NotImplementedError("fake.fake_venue: FakeVenueHost.fake_venue")
