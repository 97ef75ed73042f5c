"""Storage: the frame recorder and reading recordings back, dead letters, the Parquet tick store
and the state store (:mod:`hadron.store.state`: runs, opportunities, paper orders, fills, positions)."""
