"""The page plays pieces on their own instruments (web_client/src/audio.js), in Debian's headless
Chromium against a real server: when a round starts, the page asks the server
(game_server/sounds.py) for exactly the samples its music is played from (the same ones
music/sampler.py names for the server's own sounds), and once they are loaded its notes and
hits are played from them, not by the fallback synths; no page may log an error."""

from __future__ import annotations

import time

import pytest

from music import piece_from_dict, sampler

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

PLAYED = "import('/static/audio.js').then((audio) => audio.playedNotes())"


pytestmark = pytest.mark.usefixtures("synth")  # conftest.py: skips where this machine cannot render sound


def address(job) -> str:
    kind, number, which = job
    return f"/api/sounds/{number}/{which}.ogg" if kind == "program" else f"/api/sounds/kit/{number}/{which}.ogg"


def sample_loads(page) -> dict[str, int]:
    """{path: status} of every sample request the page has finished (filled as they finish)."""
    loads: dict[str, int] = {}

    def finished(request):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        if path.startswith("api/sounds/"):
            response = request.response()
            loads["/" + path] = response.status if response else 0

    page.on("requestfinished", finished)
    return loads


def wait_until(page, check, timeout: float = 10.0, what: str = ""):
    """Poll `check` while the page runs (Playwright hands the page's events over only while one of
    its calls waits, so the wait is the page's, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not (found := check()) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert found, what
    return found


def test_a_sort_round_loads_its_clips_instruments_and_plays_them_from_the_samples(players):
    ada = players("Sampled")
    page = ada.page
    loads = sample_loads(page)
    page.click("#sort-solo")
    page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    clips = page.evaluate("Object.values(window.arcade.round.board.clips).filter((c) => c.piece).map((c) => c.piece)")
    wanted = {address(job) for clip in clips for job in sampler.needed(piece_from_dict(clip))}
    assert len(wanted) >= 4  # a melody, chords, a bass and drums at least
    wait_until(page, lambda: wanted <= set(loads), what=f"samples not loaded: {wanted - set(loads)}")
    assert set(loads) == wanted and set(loads.values()) == {200}  # those and no other, each once
    ready = page.evaluate("(pieces) => import('/static/audio.js').then((audio) => audio.prepare(pieces))", clips)  # once decoded
    assert ready == len(wanted)
    before = page.evaluate(PLAYED)
    page.locator("#tray .clip").first.click()  # listen: the clip plays
    page.wait_for_selector("#sort-info:has-text('1 listens')")
    played = wait_until(page, lambda: (p := page.evaluate(PLAYED))["sampled"] >= before["sampled"] + 8 and p, what="no sampled note played")
    assert played["synth"] == before["synth"]  # every note from its sample: none fell back to a synth
    page.click("#sort-play")  # the board: the clip's playback is cut short, its samples silenced, nothing throws
    page.wait_for_timeout(300)


def test_beat_hunt_loads_the_kit_and_its_loop_plays_the_drum_samples(players):
    hunter = players("Sampled hunter")
    page = hunter.page
    loads = sample_loads(page)
    page.click("#blend-solo")
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    drums = page.evaluate("window.arcade.round.hunt.drums")
    wanted = {f"/api/sounds/kit/0/{drum}.ogg" for drum in drums}
    wait_until(page, lambda: wanted <= set(loads), what=f"samples not loaded: {wanted - set(loads)}")
    assert set(loads) == wanted and set(loads.values()) == {200}
    ready = page.evaluate("(drums) => import('/static/audio.js').then((audio) => audio.prepare({ drums: drums.map((drum) => ({ drum })) }))", drums)
    assert ready == len(wanted)
    before = page.evaluate(PLAYED)
    page.click("#hunt-loop")
    played = wait_until(page, lambda: (p := page.evaluate(PLAYED))["sampled"] >= before["sampled"] + 6 and p, what="no sampled hit played")
    assert played["synth"] == before["synth"]
    page.click("#hunt-loop")
