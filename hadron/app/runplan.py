"""What a live run follows and leaves beside its recording, decided before anything opens.

* :func:`stream_instruments`: the venue symbols (Kalshi market tickers, Polymarket token ids…)
  one streaming process follows (every approved pair, or a ``--venue``/``--shard`` share of them for ingest processes);
* :func:`write_run_files`: ``pairs.toml``, ``paper.toml`` and ``config.json`` in
  ``runtime.record_dir``, so that ``hadron replay`` can trade the recording again as it was traded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import tomlkit

from hadron.arb.terms import ArbConfig
from hadron.config import HadronConfig, effective
from hadron.errors import ConfigError
from hadron.model.venue import venue_names


def write_run_files(folder: Path, config: HadronConfig, arb: ArbConfig, thresholds: dict[str, Any] | None) -> None:
    """Beside a run's recording: ``pairs.toml`` as traded (the pairs file, its text kept, with the
    configuration's ``[thresholds]`` written into it when they replace the file's), ``paper.toml``
    (the ``[paper]`` and ``[risk]`` tables, for ``--paper-config``) and ``config.json``, the
    effective configuration with secrets masked.

    Raises:
        ConfigError: the folder cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        source = config.runtime.pairs
        text = Path(source).read_text() if source and Path(source).is_file() else ""
        document = tomlkit.parse(text) if text else tomlkit.document()
        if not text:
            document.add(tomlkit.comment(f"{len(arb.pairs)} pairs as traded; the pairs file itself was not available"))
        if thresholds:
            table = tomlkit.table()
            table.comment("from the run's configuration, which replaces the pairs file's [thresholds]")
            for key, value in thresholds.items():
                table[key] = value
            document["thresholds"] = table
        (folder / "pairs.toml").write_text(tomlkit.dumps(document))
        paper = tomlkit.document()
        paper.add(tomlkit.comment("[paper] and [risk] as traded: hadron replay DIR --paper --paper-config paper.toml"))
        for name in ("paper", "risk"):
            table = tomlkit.table()
            for key, value in config.tables.get(name, {}).items():
                table[key] = value
            paper[name] = table
        (folder / "paper.toml").write_text(tomlkit.dumps(paper))
        (folder / "config.json").write_bytes(msgspec.json.format(msgspec.json.encode(effective(config)), indent=2))
    except OSError as exc:
        raise ConfigError(f"runtime.record_dir {folder}: cannot write ({exc.strerror or exc})") from exc


def stream_instruments(
    arb: ArbConfig, role: str, venues: Sequence[str] | None, shard: tuple[int, int], pairs_file: str
) -> dict[str, list[str]]:
    """The venue symbols a streaming process follows, by venue (``{"kalshi": [market tickers],
    "polymarket": [token ids], …}``, only venues with something to follow, each list sorted):
    the books of every ``count``-th approved pair (both legs' YES and NO books) and outcome set
    from the ``index``-th, on the ``venues`` asked (default: every registered venue). A market's
    YES and NO books, and a pair's legs, stay in one process.

    Raises:
        ConfigError: ``--venue``/``--shard`` outside ``--role ingest``, or nothing to stream.
    """
    index, count = shard
    if role != "ingest" and (venues or count > 1):
        raise ConfigError("--venue and --shard split the streaming between ingest processes: use --role ingest")
    wanted = set(venues or venue_names())
    pairs = sorted((p for p in arb.pairs if p.tradeable), key=lambda p: p.id)[index::count]
    sets = sorted(arb.outcome_sets, key=lambda s: s.id)[index::count]
    symbols: dict[str, set[str]] = {}
    for pair in pairs:
        for leg in pair.legs:
            symbols.setdefault(leg.venue, set()).update(s for s in (leg.yes, leg.no) if s)
    for outcome_set in sets:
        symbols.setdefault(outcome_set.venue, set()).update(outcome_set.tokens)
    streamed = {venue: sorted(found) for venue, found in sorted(symbols.items()) if venue in wanted and found}
    if not streamed:
        if count > 1 or venues:
            raise ConfigError(
                f"--shard {index}/{count} --venue {','.join(sorted(wanted))}: this share of "
                f"{pairs_file or 'the pairs'} holds nothing to stream; use fewer shards"
            )
        raise ConfigError(
            f"{pairs_file or 'pairs'}: no approved pairs to stream (review them with hadron markets review)"
        )
    return streamed
