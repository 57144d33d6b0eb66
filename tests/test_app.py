import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from game_server import Config, create_app


def test_healthz_reports_status_and_versions(tmp_path):
    client = create_app(Config(database_url=f"sqlite:///{tmp_path}/a.db", pool_depth=0)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["versions"]["torch"].startswith("2.13.0")
    assert body["versions"]["melody-arcade"] != "missing"


def test_config_from_env():
    config = Config.from_env({"HOST": "0.0.0.0", "PORT": "8123", "SECRET_KEY": "s"})
    assert (config.host, config.port, config.secret_key) == ("0.0.0.0", 8123, "s")
    assert Config.from_env({}).port == 5000
    with pytest.raises(SystemExit, match="PORT must be a number"):
        Config.from_env({"PORT": "http"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a server process of its own
@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_serve_command_answers_healthz(tmp_path, async_mode):
    """`python -m game_server serve` as `make run` starts it (gevent by default), on a free port."""
    port = free_port()
    env = dict(os.environ, PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path}/serve.db", POOL_DEPTH="0")
    env.pop("ASYNC_MODE", None)
    if async_mode == "threading":
        env["ASYNC_MODE"] = "threading"
    server = subprocess.Popen([sys.executable, "-m", "game_server", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = json.load(response)
                    assert body["status"] == "ok" and body["async_mode"] == async_mode
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("env, reason", [
    ({"ASYNC_MODE": "eventlet"}, "ASYNC_MODE must be gevent or threading, got 'eventlet'"),
    ({"COMPOSER_PROCESSES": "0"}, "ASYNC_MODE=gevent needs COMPOSER_PROCESSES of 1 or more"),
])
@pytest.mark.slow  # a server process of its own
def test_serve_refuses_an_async_mode_it_cannot_run(tmp_path, env, reason):
    base = {k: v for k, v in os.environ.items() if k != "ASYNC_MODE"}  # gevent, the default, unless the case says otherwise
    done = subprocess.run([sys.executable, "-m", "game_server", "serve"], env={**base, "PORT": str(free_port()), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and reason in done.stderr


def test_readyz_says_what_cannot_serve_a_round(tmp_path):
    """Ready with its database, rooms and composer; 503 naming the database once the database
    file's folder is gone (SQLite cannot open it)."""
    (tmp_path / "db").mkdir()
    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/db/a.db", pool_depth=0, composer_processes=0))
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"ready": True, "checks": {"database": "ok", "rooms": "ok", "composer": "ok"}}
    (tmp_path / "db").rename(tmp_path / "gone")
    app.extensions["melody_arcade.services"].storage.engine.dispose()  # no connection kept open from before
    down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["checks"]["database"] != "ok" and down.get_json()["checks"]["rooms"] == "ok"
    assert client.get("/healthz").status_code == 200  # alive all the same
