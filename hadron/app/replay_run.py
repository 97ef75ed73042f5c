"""``hadron replay``'s run: recordings through the books and the strategy the options describe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hadron.app.pipeline import StrategyOptions
    from hadron.app.replay import Replay


async def replay_run(
    paths: list[Path],
    dead_letter: Path,
    seq_check: str,
    options: StrategyOptions,
    *,
    on_replay: Callable[[Replay], None] | None = None,
) -> tuple[Replay, dict[str, Any]]:
    """Replay ``paths`` (merged by receive time) into the strategy ``options`` describe (the
    builder the runtime uses, :func:`hadron.app.pipeline.build_strategy`).

    ``on_replay`` gets the replay before it starts (e.g. to set its ``on_plan``/``on_file``
    hooks for a progress bar). The strategy is closed (``finish=True``) however the replay ends.

    Returns:
        The replay (``report()``, ``dump_books()``) and the strategy's report sections.

    Raises:
        HadronError: a setting or input is wrong (see :class:`hadron.app.replay.Replay`).
        OSError: a recording or an output file could not be read or written.
    """
    from hadron.app.pipeline import build_strategy
    from hadron.app.replay import Replay
    from hadron.book.manager import BookManager

    books = BookManager()
    strategy = build_strategy(books, options, mode="replay")
    run = Replay(
        dead_letter=dead_letter,
        seq_check=seq_check,
        on_event=strategy.on_event if strategy.wants_events else None,
        books=books,
    )
    if on_replay is not None:
        on_replay(run)
    await strategy.open()
    try:
        await run.run_async(paths)
    finally:
        await strategy.close(finish=True)
    return run, strategy.report()
