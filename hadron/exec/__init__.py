"""Execution: where the trader's orders go (``docs/EXECUTION.md``).

One interface, :class:`~hadron.exec.client.ExecutionClient`, two implementations:

* :class:`~hadron.exec.paper.PaperExecution` fills each order against the books as they are when
  it arrives at the venue (the venue's latency later), with the venue's fee model;
* :class:`~hadron.exec.live.LiveExecution` sends it to the venue through the venue's
  :class:`~hadron.venues.base.OrderGateway` (signed REST), journals it in the state store before
  sending, and learns its fills from the answer, the private channels and REST.

The trader (:class:`~hadron.paper.trader.PaperTrader`: the two-leg logic, the unwind policy, the
risk manager and the kill switch) is the same above both. :mod:`hadron.exec.config` reads the
``[execution]`` table and its safety switches; :mod:`hadron.exec.reconcile` compares the journal
with the venue's own account; :mod:`hadron.exec.shadow` reports how paper and live diverged.
"""
