import os

import pytest

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real game server process per test module (tests/server.py), with its own database."""
    from .server import ServerProcess

    proc = ServerProcess(tmp_path_factory.mktemp("server")).start()
    yield proc
    proc.stop()
