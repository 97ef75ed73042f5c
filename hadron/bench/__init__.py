"""Benchmarks and soak runs on real recorded frames: ``hadron bench …`` and ``hadron soak``.

One module per measurement: ``replay`` (the replay pipeline against msgspec decoding alone),
``arb`` (the arbitrage check's cost per frame), ``compare`` (Hadron next to the naive
``baseline`` and NautilusTrader), ``live`` (the live path through loopback venues), ``soak``
(memory growth and lost frames over a long run), and for ``hadron bench store``, ``recording``
(the recorder and the Parquet tick store) and ``store`` (the state stores and the bus).
``capture`` finds and loads the real frames they share; ``timing`` is how they time.
"""
