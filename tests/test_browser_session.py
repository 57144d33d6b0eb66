"""A long session in one page, as a person plays it: both Sort ladders climbed with "Next level"
from the first level to the last (each level first failed, then solved, with listens to clips and
to the board), then the five Run levels pressed with real keys at human timing, then Beat Hunt's
ladder (the first level missed, then each found: the target heard with a click, the puck walked
there with the arrow keys, Enter to submit). The page must end it with no page error and no
console error: the audio code, the views and the socket all live through 21 boards, 5 levels
and 6 hunts.

The Sort answers are read from the server's database (the round's stored setup), the way an
operator could: this test is about the page lasting, not about finding orders by ear. So is each hunt's target. The Run
keys are the human-model bot's (run_bot.play_human: every key event off by a random error of
σ = 35 ms, no frame-exact chains), pressed as Playwright key events when the page's round clock
reaches them: the only other error is Playwright's own delivery time."""

from __future__ import annotations

import pytest

from game_server.games.blend import rules as hunt
from game_server.games.run import rules as run
from game_server.games.sort import rules as sort

from .browser import arrow_keys, human_plan, press_at_ticks
from .test_browser_blend import puck

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)


def sort_round(player, server, solve: bool) -> dict:
    """Play the Sort round on screen: listen, fill the board (the right order, or every clip one
    slot off), listen to the board, submit; returns the round's stored setup."""
    page = player.page
    page.wait_for_selector("#sort:not([hidden]) #slots .slot")
    round_id = page.evaluate("window.arcade.round.round_id")
    setup = server.stored_round(round_id).setup
    free = [slot for slot in range(len(setup["answer"])) if slot not in setup["fixed"]]
    clips = [setup["answer"][slot] for slot in free]
    if not solve:
        clips = clips[1:] + clips[:1]
    for slot, clip in zip(free, clips):
        player.place(clip, slot)
    page.click("#sort-play")
    page.wait_for_timeout(400)  # a moment of the board playing, then the submit stops it
    page.click("#sort-submit")
    page.wait_for_selector("#result:not([hidden])")
    return setup


def climb_sort_ladder(player, server, ladder: str, levels: int) -> int:
    """From the lobby: level 1 of the ladder, then every level failed once and then solved, up
    with "Next level". Returns the rounds played."""
    page = player.page
    page.select_option("#sort-ladder", ladder)
    page.select_option("#sort-level", "0")
    page.click("#sort-solo")
    for level in range(levels):
        sort_round(player, server, solve=False)
        assert "not cleared" in page.inner_text("#result-details")
        assert page.locator("#result-mine .clip.wrong").count() >= 1
        assert not page.is_visible("#result-next")
        page.click("#result-again")
        sort_round(player, server, solve=True)
        assert f"Level {level + 1} —" in page.inner_text("#result-level")
        assert "level cleared" in page.inner_text("#result-details") and page.locator("#result-mine .clip.wrong").count() == 0
        if level < levels - 1:
            page.click("#result-next")
        else:
            assert "last level" in page.inner_text("#result-ladder") and not page.is_visible("#result-next")
    page.click("#result-lobby")
    return 2 * levels


def run_level(player) -> dict:
    """Press the bot's keys for the melody lane as real key events; returns the result."""
    page = player.page
    player.start_run()
    view = page.evaluate("window.arcade.round")
    refused_before = page.evaluate("window.arcade.refused.length")
    plan = human_plan(view, 0)  # during the count-in
    page.wait_for_function("window.arcade.runTick() >= -30")  # its keys go when the count-in ends
    press_at_ticks(page, plan, arrow_keys(page))
    page.wait_for_selector("#result:not([hidden])", timeout=90_000)
    for key in ("ArrowLeft", "ArrowRight", "ArrowUp"):  # a key still held would be a repeat on the next level
        page.keyboard.up(key)
    assert page.evaluate(f"window.arcade.refused.slice({refused_before})") == []  # every batch accepted
    return page.evaluate("window.arcade.round.result")


def hunt_round(player, server, find: bool) -> dict:
    """Play the Beat Hunt round on screen: hear the target (a click), walk the puck a cell a key
    press at a time to the target (or to the corner furthest from it), and submit with Enter."""
    page = player.page
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    page.wait_for_function("window.arcade.round && window.arcade.round.game === 'blend' && !window.arcade.round.result")
    round_id = page.evaluate("window.arcade.round.round_id")
    n = page.evaluate("window.arcade.round.hunt.grid")
    target = tuple(server.stored_round(round_id).setup["target"])
    goal = target if find else max(((0, 0), (0, n - 1), (n - 1, 0), (n - 1, n - 1)), key=lambda c: abs(c[0] - target[0]) + abs(c[1] - target[1]))
    page.click("#hunt-target")  # the first hearing: free
    page.wait_for_timeout(1600)  # listening
    page.click("#hunt-loop")  # then the beat under the puck, to compare
    x, y = puck(page)
    keys = ["ArrowRight" if goal[0] > x else "ArrowLeft"] * abs(goal[0] - x) + ["ArrowDown" if goal[1] > y else "ArrowUp"] * abs(goal[1] - y)
    if not keys:  # the target under the puck already: a person hears a neighbour first
        keys = ["ArrowLeft", "ArrowRight"] if x > 0 else ["ArrowRight", "ArrowLeft"]
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(150)  # a person's pace, hearing each beat start
    assert puck(page) == goal
    page.keyboard.press("Enter")  # submits: the board has the keys (the target's button, disabled while it plays, lost the focus)
    page.wait_for_selector("#result:not([hidden])")
    result = page.evaluate("window.arcade.round.result")
    assert result["details"]["listens"] == 0, "Enter played the target again instead of submitting"
    assert tuple(result["details"]["answer"]) == goal and result["flagged"] is None
    return result


def climb_hunt_ladder(player, server) -> int:
    """From the lobby: Beat Hunt's first level missed, then found, then each level found, up with
    "Next level". Returns the rounds played."""
    page = player.page
    page.select_option("#blend-level", "0")
    page.click("#blend-solo")
    assert not hunt_round(player, server, find=False)["details"]["cleared"]
    assert not page.is_visible("#result-next")
    page.click("#result-again")
    for level in range(len(hunt.LADDER)):
        assert hunt_round(player, server, find=True)["details"]["exact"]
        assert f"Level {level + 1} —" in page.inner_text("#result-level")
        if level < len(hunt.LADDER) - 1:
            page.click("#result-next")
    assert "last level" in page.inner_text("#result-ladder")
    page.click("#result-lobby")
    return len(hunt.LADDER) + 1


@pytest.mark.slow
def test_a_long_session_in_one_page_stays_clean(players, server):
    player = players("Marathon")
    rounds = climb_sort_ladder(player, server, "slices", len(sort.LADDERS["slices"]))
    rounds += climb_sort_ladder(player, server, "morph", len(sort.LADDERS["morph"]))
    assert rounds >= 20
    page = player.page
    page.select_option("#run-level", "0")
    page.click("#run-solo")
    for level in range(len(run.LADDER)):
        result = run_level(player)
        if result["lanes"][0]["status"] != "goal":  # a person gets another go; the bot too
            page.click("#result-again")
            result = run_level(player)
        assert result["lanes"][0]["status"] == "goal", f"level {level + 1}: {result['lanes'][0]}"
        assert sum(result["lanes"][0]["judgements"][g] for g in ("perfect", "great", "good")) > 0
        if level == 0:
            player.shot("run-result")
        if level < len(run.LADDER) - 1:
            page.click("#result-next")
    assert "last level" in page.inner_text("#result-ladder")
    page.click("#result-lobby")
    assert climb_hunt_ladder(player, server) == 6


@pytest.mark.slow
def test_a_second_tab_takes_the_session_and_the_first_says_so(players, server):
    """The same player opened in a second tab (one browser: one stored name and token): the new
    tab plays, the first shows that the game moved there and does not take it back."""
    first = players("Twin")
    errors: list[str] = []
    second = first.context.new_page()
    second.on("console", lambda m: m.type == "error" and errors.append(m.text))
    second.on("pageerror", lambda e: errors.append(str(e)))
    second.goto(server.url + "/")  # the saved name: it connects by itself, with the stored token
    second.wait_for_selector("#status[data-state=connected]")
    first.page.wait_for_selector("#status[data-state=session_moved]")
    assert "open in another tab or window" in first.page.wait_for_selector("#notice:not([hidden])").inner_text()
    assert second.evaluate("window.arcade.net.playerId") == first.page.evaluate("window.arcade.net.playerId")
    second.wait_for_timeout(2500)  # longer than the reconnection delays: a tab fighting back would show
    assert first.page.get_attribute("#status", "data-state") == "session_moved"
    assert second.get_attribute("#status", "data-state") == "connected"
    assert errors == []
