"""`hadron bench compare` end to end on the shipped capture (its shape, not its timings)."""

from __future__ import annotations

from hadron import accel
from hadron.app.demo import demo_capture
from hadron.bench.compare import markdown, run_compare

DEMO_CAPTURE = demo_capture()


def test_compare_gives_every_row_and_the_pure_python_row_when_compiled() -> None:
    results = run_compare(DEMO_CAPTURE, DEMO_CAPTURE, repeat=1, limit=3_000)
    is_compiled = any(accel.compiled().values())
    assert results["build"] == accel.describe()
    for flow in ("kalshi", "polymarket"):
        r = results["flows"][flow]
        assert r["frames"] == 3_000
        expected = {"msgspec_decode", "hadron", "hobby"} | ({"hadron_pure"} if is_compiled else set())
        assert expected <= set(r["frames_per_s"])
        assert r["ratio_hadron_vs_msgspec_decode"] > 0
        assert set(r["latency"]["hadron"]) >= {"p50_us", "p99_us", "p99_9_us"}
        if is_compiled:
            assert r["ratio_compiled_vs_pure"] > 0
            assert len(r["_samples"]["hadron_pure"]) == 2_001
    if not is_compiled:
        assert "hadron_pure" in results["skipped"]
    table = markdown(results)
    assert ("hadron, pure Python" in table) is is_compiled
    assert "Hadron: " + results["build"] in table
