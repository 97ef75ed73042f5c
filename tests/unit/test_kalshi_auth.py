"""Kalshi auth: the signed message, credentials from env/.env/config, and masked secrets."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from hadron.config import KalshiConfig, Secret, load_config
from hadron.errors import ConfigError
from hadron.venues.kalshi.auth import (
    HOSTS,
    OLDER_HOSTS,
    KalshiSigner,
    generate_test_key,
    hosts_for,
    load_signer,
    signing_message,
    verify_headers,
)


def test_signed_message_is_timestamp_method_and_path_without_query() -> None:
    assert signing_message("1703123456789", "get", "/trade-api/v2/portfolio/orders?limit=5") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


def test_signature_is_rsa_pss_sha256_with_digest_length_salt() -> None:
    key, _, _ = generate_test_key()
    headers = KalshiSigner("key-id", key).headers("GET", "/trade-api/ws/v2", ts_ms=1787838983996)
    assert headers["KALSHI-ACCESS-KEY"] == "key-id"
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1787838983996"
    key.public_key().verify(
        base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]),
        b"1787838983996GET/trade-api/ws/v2",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_verification_refuses_bad_signatures_other_keys_and_old_timestamps() -> None:
    key, _, _ = generate_test_key()
    other, _, _ = generate_test_key()
    signed = KalshiSigner("k", key).headers("GET", "/trade-api/ws/v2", ts_ms=10_000)
    assert verify_headers(key.public_key(), signed, "GET", "/trade-api/ws/v2", now_ms=11_000) is None
    assert verify_headers(other.public_key(), signed, "GET", "/trade-api/ws/v2", now_ms=11_000) is not None
    assert verify_headers(key.public_key(), signed, "GET", "/trade-api/v2/markets", now_ms=11_000) is not None
    assert "window" in str(verify_headers(key.public_key(), signed, "GET", "/trade-api/ws/v2", now_ms=60_000))
    assert verify_headers(key.public_key(), {}, "GET", "/trade-api/ws/v2") == "missing auth headers"


def test_hosts_follow_kalshi_env_and_accept_overrides() -> None:
    assert hosts_for(KalshiConfig(env="demo")) == HOSTS["demo"]
    older = hosts_for(KalshiConfig(env="prod", ws_url=OLDER_HOSTS["prod"].ws, rest_url=OLDER_HOSTS["prod"].rest))
    assert older == OLDER_HOSTS["prod"]


def env_for(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), **values}


def test_missing_key_id_and_key_are_one_line_errors_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^KALSHI_API_KEY_ID is not set"):
        load_signer(load_config(environ=env_for(tmp_path), dotenv=None).kalshi)
    cfg = load_config(environ=env_for(tmp_path, KALSHI_API_KEY_ID="k"), dotenv=None).kalshi
    with pytest.raises(ConfigError, match=r"^KALSHI_PRIVATE_KEY_PATH is not set"):
        load_signer(cfg)
    cfg = load_config(
        environ=env_for(tmp_path, KALSHI_API_KEY_ID="k", KALSHI_PRIVATE_KEY_PATH=str(tmp_path / "nope.pem")),
        dotenv=None,
    ).kalshi
    with pytest.raises(ConfigError, match=r"^KALSHI_PRIVATE_KEY_PATH=.*nope.pem: cannot read"):
        load_signer(cfg)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    cfg = load_config(
        environ=env_for(tmp_path, KALSHI_API_KEY_ID="k", KALSHI_PRIVATE_KEY_PATH=str(bad)), dotenv=None
    ).kalshi
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signer(cfg)


def test_key_from_pem_text_dotenv_and_config_file(tmp_path: Path) -> None:
    _, private_pem, _ = generate_test_key()
    cfg = load_config(
        environ=env_for(tmp_path, KALSHI_API_KEY_ID="a", KALSHI_PRIVATE_KEY=private_pem.decode()), dotenv=None
    )
    assert load_signer(cfg.kalshi).key_id == "a"
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(private_pem)
    key_file.chmod(0o600)
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"KALSHI_API_KEY_ID=from-dotenv\nKALSHI_PRIVATE_KEY_PATH={key_file}\nKALSHI_ENV=demo\n")
    cfg = load_config(environ=env_for(tmp_path), dotenv=dotenv)
    assert (load_signer(cfg.kalshi).key_id, cfg.kalshi.env) == ("from-dotenv", "demo")
    toml = tmp_path / "hadron.toml"
    toml.write_text(f'[kalshi]\napi_key_id = "from-file"\nprivate_key_path = "{key_file}"\nconnections = 3\n')
    cfg = load_config(toml, environ=env_for(tmp_path), dotenv=None)
    assert (load_signer(cfg.kalshi).key_id, cfg.kalshi.connections) == ("from-file", 3)
    # the environment wins over the file
    cfg = load_config(toml, environ=env_for(tmp_path, KALSHI_API_KEY_ID="from-env"), dotenv=None)
    assert cfg.kalshi.api_key_id == "from-env"


def test_config_errors_name_the_setting(tmp_path: Path) -> None:
    toml = tmp_path / "hadron.toml"
    toml.write_text('[kalshi]\napi_key = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown setting kalshi\.api_key"):
        load_config(toml, environ={}, dotenv=None)
    toml.write_text('[kalshi]\nconnections = "two"\n')
    with pytest.raises(ConfigError, match=r"kalshi\.connections must be int"):
        load_config(toml, environ={}, dotenv=None)
    with pytest.raises(ConfigError, match="KALSHI_ENV"):
        load_config(environ={"KALSHI_ENV": "staging"}, dotenv=None)


def test_world_readable_key_file_gets_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hadron import logs

    logs.configure("warning")
    _, private_pem, _ = generate_test_key()
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(private_pem)
    key_file.chmod(0o644)
    cfg = load_config(
        environ=env_for(tmp_path, KALSHI_API_KEY_ID="k", KALSHI_PRIVATE_KEY_PATH=str(key_file)), dotenv=None
    )
    load_signer(cfg.kalshi)
    err = capsys.readouterr().err
    assert "readable by others" in err and "0o644" in err
    assert private_pem.decode().splitlines()[1] not in err


def test_secrets_are_masked_everywhere() -> None:
    key, private_pem, _ = generate_test_key()
    secret = Secret(private_pem.decode())
    assert "PRIVATE" not in repr(secret) and "PRIVATE" not in str(secret) and "PRIVATE" not in f"{secret}"
    assert "PRIVATE" not in repr(KalshiConfig(private_key=secret))
    assert repr(KalshiSigner("kid", key)) == "KalshiSigner(key_id='kid', private_key='**********')"


def test_log_redaction_masks_secret_fields_and_pem_text() -> None:
    from hadron.logs import redact

    event = redact(
        None,
        "info",
        {"event": "x", "api_key_id": "abc", "control_token": "t", "note": "-----BEGIN PRIVATE KEY-----MII"},
    )
    assert event == {"event": "x", "api_key_id": "**********", "control_token": "**********", "note": "**********"}
