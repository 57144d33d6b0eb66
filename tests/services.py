"""Real Redis and PostgreSQL servers for tests: each started on a free loopback port in its own
temporary directory, from the Debian packages (`make test` installs redis-server and postgresql
when they are missing). A test that needs one skips, saying why, only when the binary is absent."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from .server import free_port


class RedisServer:
    """A redis-server of our own on a free loopback port, in its own directory. With
    `appendonly`, as docs/deploy.md asks of production (appendfsync everysec): a restart on the
    same port and directory (`kill`, then `start`) loads what it had."""

    def __init__(self, appendonly: bool = False):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed (Debian package redis-server)")
        self.workdir = tempfile.mkdtemp(prefix="redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.appendonly = appendonly
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        import redis

        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.appendonly else ["--appendonly", "no"]
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence, "--dir", self.workdir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait(lambda: redis.Redis.from_url(self.url).ping(), "redis-server")
        return self

    def kill(self) -> None:
        """SIGKILL, as when the machine or the container dies: nothing is flushed on the way out."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def redis_server(appendonly: bool = False):
    server = RedisServer(appendonly)
    try:
        yield server.start().url
    finally:
        server.stop()


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


class Postgres:
    """A running throwaway cluster: its `url`, and `stop()`/`start()` for outage tests (a fast
    shutdown: the server closes every connection, as a database that goes away does)."""

    def __init__(self, as_user: list[str], pg_ctl: str, data: Path, options: str, log: Path, url: str):
        self._ctl = [*as_user, pg_ctl, "-D", str(data)]
        self._options, self._log, self.url = options, log, url

    def start(self) -> None:
        subprocess.run([*self._ctl, "-o", self._options, "-l", str(self._log), "-w", "start"], check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self._ctl, "-m", mode, "-w", "stop"], capture_output=True)


@contextmanager
def postgres_cluster():
    """A throwaway cluster with trust auth, started; as root it runs as the `postgres` user."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
        os.chown(workdir, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    cluster = Postgres(as_user, pg_ctl, data, f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off", workdir / "log",
                       f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_server():
    """The URL of a throwaway cluster (postgres_cluster), for tests that never stop it."""
    with postgres_cluster() as cluster:
        yield cluster.url


def _wait(probe, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)
