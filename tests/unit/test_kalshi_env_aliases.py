"""KALSHI_API_KEY and KALSHI_USE_DEMO: aliases of KALSHI_API_KEY_ID and KALSHI_ENV=demo; the
canonical name wins when both are set."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hadron.config import load_config
from hadron.errors import ConfigError


def test_aliases_fill_the_canonical_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(environ={"KALSHI_API_KEY": "key-1", "KALSHI_USE_DEMO": "true"}, dotenv=None)
    assert (cfg.kalshi.api_key_id, cfg.kalshi.env) == ("key-1", "demo")
    for flag, env in (("1", "demo"), ("YES", "demo"), ("false", "prod"), ("0", "prod")):
        assert load_config(environ={"KALSHI_USE_DEMO": flag}, dotenv=None).kalshi.env == env


def test_the_canonical_name_wins_and_a_disagreement_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with capture_logs() as logs:
        cfg = load_config(
            environ={
                "KALSHI_API_KEY": "alias-key",
                "KALSHI_API_KEY_ID": "canonical-key",
                "KALSHI_USE_DEMO": "1",
                "KALSHI_ENV": "prod",
            },
            dotenv=None,
        )
    assert (cfg.kalshi.api_key_id, cfg.kalshi.env) == ("canonical-key", "prod")
    assert sorted(entry["alias"] for entry in logs if entry["log_level"] == "warning") == [
        "KALSHI_API_KEY",
        "KALSHI_USE_DEMO",
    ]
    with capture_logs() as logs:
        load_config(environ={"KALSHI_USE_DEMO": "true", "KALSHI_ENV": "demo"}, dotenv=None)
    assert logs == []


def test_a_bad_use_demo_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="KALSHI_USE_DEMO"):
        load_config(environ={"KALSHI_USE_DEMO": "maybe"}, dotenv=None)


def test_dotenv_aliases_count_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("KALSHI_API_KEY=from-dotenv\nKALSHI_USE_DEMO=true\n")
    cfg = load_config(environ={}, dotenv=tmp_path / ".env")
    assert (cfg.kalshi.api_key_id, cfg.kalshi.env) == ("from-dotenv", "demo")
