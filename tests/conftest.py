import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")

# A test that runs a real server process, a browser, Redis or PostgreSQL is `slow`: `make
# test-fast` leaves those out (the in-process tests of the round path stay in). A test with a
# page is also `realtime`, as are the socket clients that play Run and Beat Hunt on the clock:
# `make test` runs every other test on both cores, and these after, one at a time.
REAL_PROCESSES = {"server", "browser", "players", "redis_url", "postgres_url"}
PAGES = {"browser", "players"}


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if REAL_PROCESSES & fixtures:
            item.add_marker(pytest.mark.slow)
        if PAGES & fixtures:
            item.add_marker(pytest.mark.realtime)


def started_server(tmp_path_factory):
    from .server import ServerProcess

    proc = ServerProcess(tmp_path_factory.mktemp("server")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory):
    yield from started_server(tmp_path_factory)


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """A real game server process (tests/server.py) with its own database, per test module. The
    modules that only play rounds on it (`SHARED_SERVER = True`: no restart, kill, flood or hostile
    input, no assertion on what else the server holds) share one: a start takes ~6 s, about
    1.5 min of the suite over those modules."""
    if getattr(request.module, "SHARED_SERVER", False):
        yield request.getfixturevalue("shared_server")
    else:
        yield from started_server(tmp_path_factory)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium (tests/browser.py); the tests that use it skip without it."""
    from .browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def players(browser, server):
    """Open a page per player (`players("Ada")`, or `players("Ada", PHONE)`); every page must end
    the test with no error in its console."""
    from .browser import DESKTOP, Page

    opened = []

    def open_page(name: str, device: dict = DESKTOP):
        opened.append(Page(browser, server, name, device))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


@pytest.fixture(scope="session")
def synth():
    """The SoundFont renderer, loaded once (as a server loads it once per process); a test that
    needs it skips, saying why, only where Debian's FluidSynth or the SoundFont is absent."""
    from music import sampled

    try:
        sampled.load()
    except sampled.SynthUnavailable as exc:
        pytest.skip(f"no sampled renderer here: {exc}")


@pytest.fixture
def app(tmp_path):
    """The real app in this process (tests/server.py's in_process_app), closed after the test."""
    from game_server.app import services_of

    from .server import in_process_app

    app = in_process_app(tmp_path)
    yield app
    services_of(app).storage.close()
