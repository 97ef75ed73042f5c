"""A skeleton venue package: copy it to ``hadron/venues/<venue>/`` (or any package of your own)
and fill it in, phase by phase (``docs/ADDING_A_VENUE.md``).

Every function here raises :class:`NotImplementedError`; its docstring says what it must do and
which Hadron protocol it fulfils. The package imports cleanly and is **not** registered: a venue
becomes known to Hadron through one :func:`hadron.model.venue.register_venue` call (a built-in
venue: an entry beside Kalshi's and Polymarket's in :mod:`hadron.model.venue`, naming this
package; its ``ADAPTER`` is imported on first use).

Modules, in build order: :mod:`.messages` (wire structs), :mod:`.normalize` (to Hadron's
events), :mod:`.stream` (a :class:`~hadron.venues.base.FeedStream`), :mod:`.session` (the live
WebSocket), :mod:`.rest` (REST snapshots and metadata), :mod:`.fake` (a loopback venue for
tests), :mod:`.fees` (the taker fee model), and :mod:`.adapter` (what the core gets).
"""

from __future__ import annotations

from .adapter import TemplateAdapter

ADAPTER = TemplateAdapter()
"""The venue's :class:`~hadron.venues.base.VenueAdapter` (what :func:`hadron.venues.base.get_venue`
returns once the venue is registered)."""

__all__ = ["ADAPTER", "TemplateAdapter"]
