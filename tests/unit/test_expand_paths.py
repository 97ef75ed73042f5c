"""A recording file reached twice (named twice, named and in a folder given) is replayed once."""

from __future__ import annotations

from pathlib import Path

from hadron.store.replay import expand_paths


def test_a_file_reached_twice_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "k1" / "kalshi"
    folder.mkdir(parents=True)
    a, b = folder / "a.ndjson", folder / "b.ndjson"
    a.write_text("{}\n")
    b.write_text("{}\n")
    named, found = expand_paths([a, tmp_path / "k1", a, folder])
    assert named == [a]  # named twice: read once
    assert found == [b]  # a was named; b is in two folders given: found once
    other = folder / ".." / "kalshi" / "b.ndjson"
    assert expand_paths([other, b, folder]) == ([other], [a])  # b under another spelling is still b


def test_distinct_files_keep_their_order(tmp_path: Path) -> None:
    files = [tmp_path / f"{name}.ndjson" for name in ("z", "a", "m")]
    for file in files:
        file.write_text("{}\n")
    assert expand_paths(files) == (files, [])
