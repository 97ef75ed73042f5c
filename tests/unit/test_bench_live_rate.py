"""hadron bench live reads a command's rate off its own recording: book and trade frames only."""

from __future__ import annotations

from pathlib import Path

import pytest

from hadron.bench.live import recording_rate
from hadron.errors import ConfigError
from hadron.store.recorder import FrameRecorder


def test_the_rate_spans_the_first_book_frame_to_the_last_market_frame(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, "kalshi", "kalshi-0.1")
    second = 1_000_000_000
    recorder.write(0, b'{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}')
    recorder.write(5 * second, b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{}}')  # the burst starts
    for i in range(1, 100):
        recorder.write(5 * second + i * 10_000_000, b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{}}')
    recorder.write(7 * second, b'{"type":"pyth_value","sid":3,"msg":{}}')  # reference prices go on
    recorder.write(60 * second, b'{"type":"ok","id":9,"msg":[]}')  # the minutely list_subscriptions
    recorder.close()
    rate = recording_rate(tmp_path)
    assert rate["frames"] == 100
    assert rate["seconds"] == pytest.approx(0.99)
    assert rate["frames_per_s"] == round(100 / 0.99)


def test_no_book_frame_is_a_config_error(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, "polymarket", "polymarket-0.1")
    recorder.write(1, b"PONG")
    recorder.close()
    with pytest.raises(ConfigError, match="no recording with a book frame"):
        recording_rate(tmp_path)


def test_a_live_window_too_short_to_measure_gives_no_rate() -> None:
    from hadron.bench.live import MIN_WINDOW_S, too_short

    short = {"live_s": 0.0, "live_frames_per_s": 429_000_000_000, "ratio_live_vs_offline": 1_226_292.4}
    result = too_short(short)
    assert result["live_frames_per_s"] is None and result["ratio_live_vs_offline"] is None
    assert "too short" not in result["too_short"] and "no rate is measurable" in result["too_short"]
    measured = {"live_s": MIN_WINDOW_S, "live_frames_per_s": 300_000, "ratio_live_vs_offline": 0.9}
    assert too_short(measured) is measured
