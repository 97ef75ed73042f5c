"""The running system, wired from the core packages: what ``hadron run``, ``replay`` and ``demo`` start.

* the live runtime (:mod:`~hadron.app.runtime`, assembled by :mod:`~hadron.app.launch`) and its
  settings decided up front (:mod:`~hadron.app.runplan`);
* the process roles over the event bus (:mod:`~hadron.app.roles`: ingest publishes through
  :mod:`~hadron.app.publisher`, strategy consumes in :mod:`~hadron.app.strategy`, accounted by
  :mod:`~hadron.app.sequence`);
* replay of recordings through the live streams and books (:mod:`~hadron.app.replay`,
  :mod:`~hadron.app.replay_run`, :mod:`~hadron.app.bridge`) and the strategy every path shares
  (:mod:`~hadron.app.pipeline`);
* the dashboard and control plane (:mod:`~hadron.app.dashboard`, :mod:`~hadron.app.service`,
  :mod:`~hadron.app.snapshot`, :mod:`~hadron.app.views`, :mod:`~hadron.app.account`,
  :mod:`~hadron.app.control` and its client :mod:`~hadron.app.control_client`);
* the demo on loopback venues (:mod:`~hadron.app.demo`), and process helpers
  (:mod:`~hadron.app.ports`, :mod:`~hadron.app.memory`).

Benchmarks and soak runs live in :mod:`hadron.bench`; the command line in :mod:`hadron.cli`.
"""
