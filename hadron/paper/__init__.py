"""Paper trading: the detector's opportunities taken against the real books, without real orders.

The trader (:mod:`~hadron.paper.trader`) sends one order per leg after each venue's simulated
latency and fills it against the book as it is then; the risk manager and kill switch
(:mod:`~hadron.paper.risk`) stand in front of every order; the portfolio
(:mod:`~hadron.paper.portfolio`) keeps cash, holdings and P&L through settlement. Also here: the
settings (:mod:`~hadron.paper.config`), settlements from a file for replays, the reports, the HTTP
control endpoint and the state-store sink.
"""
