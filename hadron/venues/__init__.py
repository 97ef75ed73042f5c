"""The venues: one package per venue (:mod:`~hadron.venues.kalshi`, :mod:`~hadron.venues.polymarket`),
the seam the core reaches them through (:mod:`hadron.venues.base`: the registry and the capability
protocols; the core never imports a venue package), and what the venue packages share: the
WebSocket and HTTP clients, the stream base, the loopback server, polling."""
