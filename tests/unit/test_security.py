"""Security rules that hold for the whole package: no shell, no eval/exec, no pickle; credentials in
URLs masked everywhere; the control plane's Host, Origin, token and body rules; the token file."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "hadron"


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            out.append((name, node))
    return out


def test_no_shell_no_eval_no_pickle() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("pickle", "marshal", "shelve") for n in names):
                    problems.append(f"{path}: imports {names}")
        for name, call in _calls(tree):
            if name in ("eval", "exec", "compile") and isinstance(call.func, ast.Name):
                problems.append(f"{path}:{call.lineno}: {name}()")
            for keyword in call.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    problems.append(f"{path}:{call.lineno}: shell=")
    assert problems == []


# -- item 7: credentials in URLs are masked everywhere (one function) ---------------------------------

SECRET_URLS = [
    ("postgresql://hadron:pg-s3cret@db:5432/hadron", "postgresql://hadron:***@db:5432/hadron"),
    ("postgresql://hadron@db/hadron?password=pg-s3cret&sslmode=require", "postgresql://***@db/hadron?password=***&sslmode=require"),
    ("nats://nats-t0ken@bus:4222", "nats://***@bus:4222"),
    ("nats://user:nats-pw@bus:4222", "nats://user:***@bus:4222"),
    ("wss://venue.example/ws?token=ws-t0ken&market=X", "wss://venue.example/ws?token=***&market=X"),
    ("https://api.example/v1?apikey=k1&api_key=k2&auth=a&secret=s&key=k&X-Amz-Signature=sig",
     "https://api.example/v1?apikey=***&api_key=***&auth=***&secret=***&key=***&X-Amz-Signature=***"),
    ("host=db password=pg-s3cret dbname=hadron", "host=db password=*** dbname=hadron"),
    ("sqlite:///hadron-state.db", "sqlite:///hadron-state.db"),
    ("http://127.0.0.1:8765/", "http://127.0.0.1:8765/"),
]  # fmt: skip


def test_mask_url_masks_userinfo_and_sensitive_parameters() -> None:
    from hadron.bus.nats import _mask
    from hadron.config import mask_url

    for url, masked in SECRET_URLS:
        assert mask_url(url) == masked, url
        assert _mask(url) == masked, url  # one function everywhere
    text = "cannot reach NATS at nats://tok1@a:4222 or tls://u:pw2@b:4222 within 5 s"
    assert mask_url(text) == "cannot reach NATS at nats://***@a:4222 or tls://u:***@b:4222 within 5 s"


def test_logs_mask_urls_in_every_field() -> None:
    from hadron.logs import redact

    event = redact(None, "info", {"event": "bus at nats://tok@h:4222", "url": "nats://tok@h:4222",
                                  "error": "GET wss://v/ws?token=abc failed"})  # fmt: skip
    assert event == {"event": "bus at nats://***@h:4222", "url": "nats://***@h:4222",
                     "error": "GET wss://v/ws?token=*** failed"}  # fmt: skip


def _secret_config(tmp_path: Path) -> Path:
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    (tmp_path / "pairs.toml").write_text(pairs_toml(["KXGOLD15M-26AUG102130-30"]))
    config = tmp_path / "hadron.toml"
    config.write_text(
        f"""[kalshi]
ws_url = "wss://kalshi.example/ws?token=ws-t0ken"

[polymarket]
rest_url = "https://clob.example?apikey=poly-k3y"

[runtime]
pairs = "{tmp_path / "pairs.toml"}"
state = "postgresql://hadron:pg-s3cret@127.0.0.1:1/hadron?sslpassword=ssl-s3cret"
bus = "nats://nats-t0ken@127.0.0.1:4222"
record_dir = "{tmp_path / "rec"}"
port = 0
"""
    )
    return config


SECRETS = ("pg-s3cret", "ssl-s3cret", "nats-t0ken", "ws-t0ken", "poly-k3y")


def test_config_check_run_record_and_config_json_mask_every_url(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hadron.app.runtime import Runtime
    from hadron.cli import app
    from hadron.config import load_config

    config = _secret_config(tmp_path)
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 0, result.output
    assert not [s for s in SECRETS if s in result.output], result.output
    assert "postgresql://hadron:***@127.0.0.1:1/hadron?sslpassword=***" in result.output
    assert "nats://***@127.0.0.1:4222" in result.output
    runtime = Runtime(load_config(config, environ={}, dotenv=None))  # opens nothing before run()
    stored = str(runtime.strategy.options.run_config)  # the runs table's config JSON
    assert "pg-s3cret" not in stored and not [s for s in SECRETS if s in stored], stored
    written = (tmp_path / "rec" / "config.json").read_text()
    assert not [s for s in SECRETS if s in written], written
    runtime.errors.append("bus: cannot reach NATS at nats://nats-t0ken@127.0.0.1:4222")
    assert not [s for s in SECRETS if s in str(runtime.status())]


# -- item 1: the control plane: Host, Origin, token, JSON body ---------------------------------------


def _guarded(token_for_reads: bool = False) -> object:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from hadron.app.control import ControlGuard

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"method": request.method, "body": (await request.body()).decode()})

    app = Starlette(routes=[Route("/api/stop", echo, methods=["POST"]), Route("/api/status", echo)])
    return ControlGuard(app, token="tok", port=8765, token_for_reads=token_for_reads)


def _statuses(app: object, requests: list[tuple[str, str, dict[str, str], bytes]]) -> list[tuple[int, str]]:
    import asyncio

    import httpx

    async def main() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
            out = []
            for method, path, headers, body in requests:
                response = await client.request(method, path, headers=headers, content=body)
                out.append((response.status_code, response.text))
            return out

    return asyncio.run(main())


def test_the_guard_refuses_foreign_hosts_origins_and_unauthenticated_changes() -> None:
    ok = {"Authorization": "Bearer tok", "Content-Type": "application/json"}
    cases = [
        ("POST", "/api/stop", {"Origin": "http://attacker.example", "Content-Type": "text/plain"}, b"{}"),  # CSRF
        ("POST", "/api/stop", {"Content-Type": "text/plain"}, b"{}"),  # no Origin, no token
        ("POST", "/api/stop", {"Content-Type": "application/json"}, b"{}"),  # JSON, no token
        ("POST", "/api/stop", {**ok, "Authorization": "Bearer nope"}, b"{}"),  # a wrong token
        ("POST", "/api/stop", {**ok, "Origin": "http://attacker.example"}, b"{}"),  # the token, another page
        ("POST", "/api/stop", {**ok, "Origin": "null"}, b"{}"),
        ("POST", "/api/stop", {**ok, "Content-Type": "text/plain"}, b"{}"),
        ("POST", "/api/stop", ok, b"stop"),  # not JSON
        ("POST", "/api/stop", ok, b"[]"),  # not an object
        ("POST", "/api/stop?token=tok", {"Content-Type": "application/json"}, b"{}"),  # header only for changes
        ("GET", "/api/status", {"Host": "rebind.attacker.example"}, b""),  # DNS rebinding
        ("GET", "/api/status", {"Host": "rebind.attacker.example:8765"}, b""),
        ("GET", "/api/status", {"Host": "127.0.0.1:9999"}, b""),  # another port
        ("GET", "/api/status", {"Origin": "http://attacker.example"}, b""),
        ("POST", "/api/stop", {**ok, "Origin": "http://127.0.0.1:8765"}, b'{"reason": "x"}'),  # the dashboard
        ("POST", "/api/stop", {**ok, "Host": "localhost:8765"}, b"{}"),  # hadron stop
        ("POST", "/api/stop", {**ok, "Host": "[::1]:8765", "Origin": "http://[::1]:8765"}, b"{}"),
        ("GET", "/api/status", {}, b""),  # reads on loopback need no token
    ]
    got = _statuses(_guarded(), cases)
    assert [status for status, _ in got] == [403, 401, 401, 401, 403, 403, 415, 400, 400, 401,
                                             421, 421, 421, 403, 200, 200, 200, 200]  # fmt: skip
    assert '"body":"{\\"reason\\": \\"x\\"}"' in got[14][1]  # the body reaches the endpoint intact


def test_a_configured_token_guards_reads_too() -> None:
    got = _statuses(
        _guarded(token_for_reads=True),
        [
            ("GET", "/api/status", {}, b""),
            ("GET", "/api/status?token=tok", {}, b""),
            ("GET", "/api/status", {"Authorization": "Bearer tok"}, b""),
        ],
    )
    assert [status for status, _ in got] == [401, 200, 200]


def test_the_token_file_is_private_and_removed_only_when_ours(tmp_path: Path) -> None:
    import stat

    from hadron.app.control import (
        local_port,
        new_token,
        read_token_file,
        remove_token_file,
        token_file,
        write_token_file,
    )

    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    (tmp_path / "hadron").mkdir(mode=0o755)  # a folder too open is closed
    path = write_token_file(8765, token, env)
    assert path == token_file(8765, env) == tmp_path / "hadron" / "8765.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_token_file(8765, env) == token and read_token_file(8766, env) is None
    remove_token_file(path, "another run's")
    assert path.exists()
    remove_token_file(path, token)
    assert not path.exists()
    assert token_file(1, {}).parent == Path.home() / ".hadron" / "run"
    assert [local_port(u) for u in ("http://127.0.0.1:8765", "http://localhost", "http://[::1]:9", "http://h.example:8765")] == [
        8765, 80, 9, None
    ]  # fmt: skip
