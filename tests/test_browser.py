"""The web client in Debian's headless Chromium, driven by Playwright, against a real server:
a solo Sort round to a result, a co-op Sort round on two pages, a solo Run level by key presses,
the Run physics vectors in the page, and a dropped connection that recovers. Screenshots go to
test-artifacts/screenshots; no test may leave an error in a page's console."""

from __future__ import annotations

import json
import re
import time

from .browser import ROOT

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)


def test_solo_sort_round_through_the_page(players):
    ada = players("Ada")
    ada.shot("lobby")
    ada.page.click("#sort-solo")
    ada.page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    ada.page.locator("#tray .clip").first.click()  # listen
    ada.page.wait_for_selector("#sort-info:has-text('1 listens')")
    ada.shot("sort")
    ada.place_all()
    ada.page.click("#sort-submit")
    ada.page.wait_for_selector("#result:not([hidden])")
    assert re.fullmatch(r"\d+", ada.page.inner_text("#result-score"))
    assert ada.page.locator("#result-answer .clip").count() == 4
    ada.shot("sort-result")
    assert ada.take_home() == {"MIDI": "audio/midi", "WAV": "audio/wav", "OGG": "audio/ogg"}


def test_a_hidden_clip_is_heard_from_the_sound_the_server_renders(players):
    """Morph level 6, every option hidden: a click on a clip fetches its sound (the address its
    listen gave) and starts it; the board has no notes of it until the result shows them."""
    eve = players("Eve")
    eve.page.select_option("#sort-ladder", "morph")
    eve.page.select_option("#sort-level", "5")
    eve.page.click("#sort-solo")
    eve.page.wait_for_selector("#sort:not([hidden]) #tray .clip.hidden")
    assert eve.page.locator("#tray .clip canvas").count() == 0  # heard only: no piano roll
    with eve.page.expect_response(lambda r: "/clips/" in r.url and r.url.endswith(".wav")) as sound:
        eve.page.locator("#tray .clip").first.click()
    assert sound.value.status == 200 and sound.value.headers["content-type"] == "audio/wav"
    started = "import('/static/audio.js').then((audio) => audio.startedSounds())"
    deadline = time.monotonic() + 10
    while eve.page.evaluate(started) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert eve.page.evaluate(started) == 1  # decoded and started at the page's output
    eve.place_all()
    eve.page.click("#sort-submit")
    eve.page.wait_for_selector("#result:not([hidden])")
    assert eve.page.locator("#result-answer .clip canvas").count() == 10  # the hidden clips' notes, now shown
    eve.shot("sort-hidden-result")


def test_coop_sort_round_on_two_pages(players):
    host, guest = players("Host"), players("Guest")
    host.page.click("#sort-coop")
    guest.join(host)
    host.page.click("#start-round")
    for p in (host, guest):
        p.page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    first = host.page.locator("#tray .clip").first.get_attribute("data-clip")
    host.page.locator("#tray .clip").first.click()
    host.page.wait_for_selector(".clip.selected")
    host.page.locator("#slots .slot").first.click()
    guest.page.wait_for_selector(f"#slots .slot >> nth=0 >> .clip[data-clip='{first}']")  # the host's move, live
    second = guest.page.locator("#tray .clip").first.get_attribute("data-clip")
    guest.place_all()
    host.page.wait_for_selector(f"#slots .clip[data-clip='{second}']")  # and the guest's
    host.shot("sort-coop")
    host.page.click("#sort-submit")
    for p in (host, guest):
        p.page.wait_for_selector("#result:not([hidden])")
    assert host.page.inner_text("#result-score") == guest.page.inner_text("#result-score")


def test_solo_run_level_by_key_presses(players):
    runner = players("Runner")
    runner.page.click("#run-solo")
    runner.start_run()
    runner.page.wait_for_function("window.arcade.runTick() >= 0", timeout=10_000)
    keyboard = runner.page.keyboard
    keyboard.down("ArrowRight")
    runner.page.wait_for_timeout(700)
    runner.shot("run")
    for _ in range(3):
        keyboard.press("ArrowUp")
        runner.page.wait_for_timeout(300)
    keyboard.up("ArrowRight")
    runner.page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    table = runner.page.inner_text("#result-details")
    assert "Melody" in table and re.fullmatch(r"\d+", runner.page.inner_text("#result-score"))
    runner.shot("run-result")
    assert runner.take_home() == {"MIDI": "audio/midi", "WAV": "audio/wav", "OGG": "audio/ogg"}
    accepted = runner.page.evaluate("window.arcade.seq")
    assert accepted >= 2  # the key presses went to the server as accepted input batches


def test_run_physics_vectors_in_the_page(players):
    page = players("Vectors").page
    vectors = json.loads((ROOT / "tests" / "vectors" / "run_physics.json").read_text())
    mismatches = page.evaluate(
        """async (vectors) => {
          const phys = await import('/static/run_physics.js');
          const out = [];
          for (const c of vectors.cases) {
            const lane = phys.makeLane(c.lane);
            const wanted = new Map(c.states.map((s) => [s.tick, JSON.stringify(s)]));
            const events = [];
            for (const {tick, state, events: evs} of phys.simulate(lane, c.inputs, c.ticks)) {
              for (const [kind, platform] of evs) events.push([tick, kind, platform]);
              if (wanted.has(tick) && JSON.stringify({tick, ...state}) !== wanted.get(tick)) out.push(`${c.name} @${tick}`);
            }
            if (JSON.stringify(events) !== JSON.stringify(c.events)) out.push(`${c.name} events`);
          }
          return {out, cases: vectors.cases.length};
        }""",
        vectors,
    )
    assert mismatches == {"out": [], "cases": len(vectors["cases"])}


def test_a_dropped_connection_recovers(players):
    ada = players("Dropper")
    ada.page.click("#sort-solo")
    ada.page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    round_id = ada.page.evaluate("window.arcade.round.round_id")
    ada.page.evaluate("window.arcade.net.dropForTest()")
    ada.page.wait_for_selector("#status[data-state=reconnecting]")
    ada.page.wait_for_selector("#status[data-state=connected]", timeout=15_000)
    assert ada.page.evaluate("window.arcade.round.round_id") == round_id
    assert ada.page.is_visible("#sort")
    ada.place_all()  # moves still go through, in the same round
    ada.page.click("#sort-submit")
    ada.page.wait_for_selector("#result:not([hidden])")


def test_calibration_and_refusals_are_shown(players):
    tapper = players("Tapper")
    tapper.page.fill("#join-code", "NOSUCHRM")
    tapper.page.click("#join-form button")
    notice = tapper.page.wait_for_selector("#notice[data-code=no_such_room]:not([hidden])")
    assert "no room has that code" in notice.inner_text()
    tapper.page.click("#calibrate")
    tapper.page.wait_for_selector("#calibration:not([hidden])")
    tapper.page.wait_for_timeout(800)  # the first click sounds 0.8 s after the button
    for _ in range(8):
        tapper.page.keyboard.press(" ")
        tapper.page.wait_for_timeout(500)
    tapper.page.wait_for_selector("#calibration[hidden]", state="attached", timeout=5000)
    stored = tapper.page.evaluate("localStorage.getItem('melody-arcade.offset')")
    assert stored is not None and abs(int(stored)) <= 250
    assert tapper.page.inner_text("#offset") == stored and tapper.page.evaluate("window.arcade.offset") == int(stored)
