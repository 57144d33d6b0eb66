"""Beat Hunt in the page (web_client/src/games/blend.js), in Debian's headless Chromium driven by
Playwright against a real server, as a person plays it: a solo round on level 1 with the mouse
(hear the target, drag the puck over several cells while the beat under it changes on the step
grid, hear the target again, submit, the result with the target on the board); a co-op round on
two pages, each moving its own axis (arrow keys on one, a mouse drag and a key on the other) and
seeing the other's moves live, T for the target, one submit (Enter) ending it on both; a round on a phone with touch drags. Real key,
mouse and touch events only, at a person's pace; no page may log an error (tests/browser.py)."""

from __future__ import annotations

import re
import time

from .browser import PHONE, SHOTS, mouse_drag, touch_drag

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

STARTED = "import('/static/audio.js').then((audio) => audio.startedSounds())"  # rendered sounds started (read only)
PAUSE_MS = 120  # a person's hand over one cell of the board


def puck(page) -> tuple[int, int]:
    p = page.locator("#hunt-puck")
    return int(p.get_attribute("data-x")), int(p.get_attribute("data-y"))


def steps_shown(page) -> str:
    """The step grid as drawn: 1 for a lit step, 0 for a dark one, row after row."""
    return page.eval_on_selector_all("#hunt-steps i", "cells => cells.map((c) => (c.classList.contains('on') ? 1 : 0)).join('')")


def cell_centre(page, x: int, y: int) -> tuple[float, float]:
    box = page.locator(f"#hunt-board .cell[data-x='{x}'][data-y='{y}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def wait_for_sounds(page, more_than: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while (started := page.evaluate(STARTED)) <= more_than and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started > more_than, "the target's sound never started"
    return started


def mouse_drag_cells(page, path: list[tuple[int, int]]) -> list[str]:
    """The mouse dragged over the cells of `path` (browser.mouse_drag); the step grid shown on each."""
    return mouse_drag(page, [cell_centre(page, x, y) for x, y in path], PAUSE_MS, lambda: steps_shown(page))


def touch_drag_cells(page, cdp, path: list[tuple[int, int]]) -> None:
    """A finger slid over the cells of `path` (browser.touch_drag), resting on each as a hand does."""
    touch_drag(page, cdp, [cell_centre(page, x, y) for x, y in path], PAUSE_MS)


def stored_moves(server, round_id: str) -> list[dict]:
    return [m["payload"] for m in server.get(f"/api/rounds/{round_id}")["moves"]]


def assert_moves_throttled(moves: list[dict]) -> None:
    """No `move` names the cell the one before it named; never more than 15 in a second (+1 for the
    server's clock reading them in bunches)."""
    cells = [(m.get("x"), m.get("y")) for m in moves if m["kind"] == "move"]
    assert all(a != b for a, b in zip(cells, cells[1:])), cells
    times = [m["t"] for m in moves if m["kind"] == "move"]
    assert all(sum(1 for t in times if start <= t < start + 1) <= 16 for start in times), times


def test_a_solo_beat_hunt_round_with_the_mouse(players, server):
    ada = players("Hunter")
    page = ada.page
    card = page.locator("article.game:has(#blend-solo)")
    assert "Beat Hunt" in card.inner_text() and page.locator("#blend-level option").count() == 5
    SHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SHOTS / "blend-lobby-card.png"))
    page.click("#blend-solo")
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    assert page.locator("#hunt-board .cell").count() == 25  # level 1: 5 × 5
    assert puck(page) == (2, 2)
    assert page.locator("#hunt-steps .drum").all_inner_texts() == ["kick", "snare", "closed hat", "open hat", "low tom", "mid tom", "high tom", "crash", "ride"]
    assert re.fullmatch(r"1:(30|29|28)", page.inner_text("#hunt-clock"))
    round_id = page.evaluate("window.arcade.round.round_id")

    heard = page.evaluate(STARTED)
    with page.expect_response(lambda r: "/clips/" in r.url and r.url.endswith(".wav")) as sound:
        page.click("#hunt-target")  # the first hearing: free
    assert sound.value.status == 200
    heard = wait_for_sounds(page, heard)
    page.wait_for_selector("#hunt-target:has-text('6 left')")
    assert page.get_attribute("#hunt-target", "data-left") == "6"

    path = [(2, 2), (1, 2), (1, 1), (0, 1), (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (4, 1)]
    shown = mouse_drag_cells(page, path)
    assert puck(page) == (4, 1)
    assert len(set(shown)) >= 3, "the step grid should change as the puck crosses the grid"
    page.wait_for_selector("#hunt-steps i.now")  # the beat under the puck loops: its playhead moves
    assert page.inner_text("#hunt-cell") == "E2"
    page.mouse.click(*cell_centre(page, 3, 3))  # a click puts it there
    page.wait_for_function("document.querySelector('#hunt-puck').dataset.x === '3' && document.querySelector('#hunt-puck').dataset.y === '3'")
    assert page.locator("#hunt-board .cell.visited").count() >= len(path)
    page.wait_for_timeout(200)  # the puck's slide to the cell ends
    ada.shot("blend")

    page.click("#hunt-target")  # again: a listen the server counts
    page.wait_for_selector("#hunt-target[data-left='5']")
    wait_for_sounds(page, heard)
    page.wait_for_selector("#hunt-target:has-text('5 left')")

    page.click("#hunt-submit")
    page.wait_for_selector("#result:not([hidden])")
    assert re.fullmatch(r"\d+", page.inner_text("#result-score"))
    assert page.locator("#hunt-result .cell.target").count() == 1
    answer = page.locator("#hunt-result .cell.answer")
    assert (answer.get_attribute("data-x"), answer.get_attribute("data-y")) == ("3", "3")  # the cell on screen was submitted
    details = page.inner_text("#result-details")
    assert "Closeness" in details and "Listens again: 1" in details and "Your answer D4" in details
    ada.shot("blend-result")
    assert ada.take_home() == {"MIDI": "audio/midi", "WAV": "audio/wav", "OGG": "audio/ogg"}
    page.click("#result-play")  # the target's beat, now revealed
    assert page.evaluate("window.arcade.refused") == []
    moves = stored_moves(server, round_id)
    assert [m["kind"] for m in moves].count("listen") == 1 and moves[-1]["kind"] == "submit"
    last_move = [m for m in moves if m["kind"] == "move"][-1]
    assert (last_move["x"], last_move["y"]) == (3, 3)
    assert 3 <= sum(m["kind"] == "move" for m in moves) <= len(path)  # throttled: cells passed over in a bunch go as one
    assert_moves_throttled(moves)


def test_a_coop_hunt_each_page_steers_its_own_axis(players, server):
    host, guest = players("Xena"), players("Yuri")
    host.page.click("#blend-coop")
    guest.join(host)
    host.page.click("#start-round")
    for p in (host, guest):
        p.page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    h, g = host.page, guest.page
    assert "You steer ↔ left and right" in h.inner_text("#hunt-role") and "Yuri steers ↕" in h.inner_text("#hunt-role")
    assert "You steer ↕ up and down" in g.inner_text("#hunt-role")
    assert h.is_visible("#hunt-rail.x") and g.is_visible("#hunt-rail.y")
    assert puck(h) == puck(g) == (2, 2)

    h.keyboard.press("ArrowRight")  # the host's axis, by keys (the board has the focus)
    h.wait_for_timeout(200)
    h.keyboard.press("ArrowRight")
    assert puck(h) == (4, 2)
    g.wait_for_selector("#hunt-puck[data-x='4'][data-y='2']")  # live on the partner's page
    h.keyboard.press("ArrowDown")  # not the host's axis
    h.wait_for_selector("#hunt-status:has-text('Your partner steers up and down')")
    assert puck(h) == (4, 2)

    mouse_drag_cells(g, [(4, 2), (3, 3), (2, 4)])  # the guest's axis, by a mouse drag: only y follows
    assert puck(g) == (4, 4)
    h.wait_for_selector("#hunt-puck[data-x='4'][data-y='4']")
    h.wait_for_selector("#hunt-status:has-text('Yuri moved the puck to E5')")
    g.keyboard.press("ArrowUp")
    assert puck(g) == (4, 3)
    h.wait_for_selector("#hunt-puck[data-x='4'][data-y='3']")
    host.shot("blend-coop")
    guest.shot("blend-coop-guest")

    g.keyboard.press("t")  # the guest's free hearing (T), then one the server counts for both
    g.wait_for_selector("#hunt-target:has-text('6 left')")
    g.click("#hunt-target")
    g.wait_for_selector("#hunt-target[data-left='5']")
    h.wait_for_selector("#hunt-status:has-text('Yuri heard the target again: 5 listens left')")

    assert h.evaluate("document.activeElement.id") == "hunt-board"
    h.keyboard.press("Enter")  # the host submits the puck's cell, for both
    for p in (h, g):
        p.wait_for_selector("#result:not([hidden]) #hunt-result .cell.answer")
    assert h.inner_text("#result-score") == g.inner_text("#result-score")
    assert h.is_visible("#result-again") and not g.is_visible("#result-again") and not g.is_visible("#result-next")
    assert "Xena starts the next round." in g.inner_text("#result-ladder")  # the partner is not offered a start the server refuses
    for p in (h, g):
        answer = p.locator("#hunt-result .cell.answer")
        assert (answer.get_attribute("data-x"), answer.get_attribute("data-y")) == ("4", "3")
        assert p.evaluate("window.arcade.refused") == []
    assert_moves_throttled(stored_moves(server, h.evaluate("window.arcade.round.round_id")))


def test_a_hunt_on_a_phone_by_touch(players):
    phone = players("Thumb", PHONE)
    page = phone.page
    page.locator("#blend-solo").tap()
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    board = page.locator("#hunt-board").bounding_box()
    assert board["x"] >= 0 and board["x"] + board["width"] <= 390 and board["width"] >= 300
    assert page.evaluate("getComputedStyle(document.querySelector('#hunt-board')).touchAction") == "none"
    for button in ("#hunt-target", "#hunt-submit"):
        box = page.locator(button).bounding_box()
        assert box["x"] + box["width"] <= 390 and box["height"] >= 32
    heard = page.evaluate(STARTED)
    page.locator("#hunt-target").tap()
    wait_for_sounds(page, heard)
    cdp = page.context.new_cdp_session(page)
    scrolled = page.evaluate("window.scrollY")
    before = steps_shown(page)
    touch_drag_cells(page, cdp, [(2, 2), (1, 1), (0, 0)])
    assert puck(page) == (0, 0)
    assert steps_shown(page) != before
    touch_drag_cells(page, cdp, [(0, 0), (1, 0), (2, 0), (3, 1)])
    assert puck(page) == (3, 1)
    assert page.evaluate("window.scrollY") == scrolled  # a finger on the board drags the puck, it does not scroll the page
    phone.shot("blend-phone")
    page.locator("#hunt-submit").tap()
    page.wait_for_selector("#result:not([hidden]) #hunt-result .cell.answer")
    answer = page.locator("#hunt-result .cell.answer")
    assert (answer.get_attribute("data-x"), answer.get_attribute("data-y")) == ("3", "1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("blend-phone-result", full_page=True)
    assert page.evaluate("window.arcade.refused") == []


def test_a_submit_at_once_is_shown_as_not_ranked(players):
    """Enter the moment the board shows: sooner than any beat can be heard, so the server flags the
    result (rules.implausible); the page says it is not on the leaderboard, and why."""
    quick = players("Quick")
    page = quick.page
    page.click("#blend-solo")
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    page.keyboard.press("Enter")  # the board has the focus: Enter submits the centre
    page.wait_for_selector("#result:not([hidden])")
    seconds = page.evaluate("window.arcade.round.result.details.seconds")
    assert seconds < 1.5, f"submitted {seconds} s after the start: too slow a page to be flagged"
    assert page.inner_text("#result-flagged").startswith("Not on the leaderboard: submitted")
    answer = page.locator("#hunt-result .cell.answer")
    assert (answer.get_attribute("data-x"), answer.get_attribute("data-y")) == ("2", "2")
