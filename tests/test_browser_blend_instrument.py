"""Beat Blender's instrument in the page (web_client/src/games/blend_instrument.js, at /blend), in
Debian's headless Chromium driven by Playwright against a real server, as a person plays it: from
the lobby card's button to /blend, a mouse drag across the board (the beat heard changes, and the
step grid shown with it), a corner edited on its step grid (the grid blends again: the corner's
cell plays the edit), the beat and a drawn path exported as MIDI (downloads, read back), a share
link opened in a new page (the same corners), corners picked from the presets and sampled anew,
the grid made smaller and put in another meter, and the instrument on a phone by touch. Real
clicks, mouse and touch events at a person's pace; no page may log an error (tests/browser.py)."""

from __future__ import annotations

from music import DRUM_CLASSES, read_midi

from .browser import DESKTOP, PHONE, SHOTS, mouse_drag, touch_drag
from .test_browser_blend import PAUSE_MS

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

STEPS = 32  # 4/4, the instrument's default meter


def puck(page) -> tuple[int, int]:
    p = page.locator("#blender-puck")
    return int(p.get_attribute("data-x")), int(p.get_attribute("data-y"))


def steps_shown(page, grid: str = "#blender-steps") -> str:
    return page.eval_on_selector_all(f"{grid} i", "cells => cells.map((c) => (c.classList.contains('on') ? 1 : 0)).join('')")


def hits_shown(page) -> set[tuple[int, str]]:
    """The step grid as (step, drum) hits: its rows are the drums in DRUM_CLASSES order."""
    shown = steps_shown(page)
    return {(i % STEPS, DRUM_CLASSES[i // STEPS].value) for i, on in enumerate(shown) if on == "1"}


def cell_centre(page, x: int, y: int) -> tuple[float, float]:
    box = page.locator(f"#blender-board .cell[data-x='{x}'][data-y='{y}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def mouse_drag_cells(page, path: list[tuple[int, int]]) -> list[str]:
    """The mouse dragged over the cells of `path` (browser.mouse_drag); the step grid shown on each."""
    return mouse_drag(page, [cell_centre(page, x, y) for x, y in path], PAUSE_MS, lambda: steps_shown(page))


def click_cell(page, x: int, y: int) -> str:
    page.mouse.click(*cell_centre(page, x, y))
    page.wait_for_function(f"document.querySelector('#blender-puck').dataset.x === '{x}' && document.querySelector('#blender-puck').dataset.y === '{y}'")
    return steps_shown(page)


def open_instrument(page) -> None:
    with page.expect_response(lambda r: r.url.endswith("/api/games/blend/grid")) as grid:
        page.click("#blend-instrument")
    assert grid.value.status == 200
    page.wait_for_function("location.pathname === '/blend'")
    wait_for_board(page)


def wait_for_board(page, n: int = 11) -> None:
    page.wait_for_selector("#blender:not(.busy) #blender-board .cell")
    page.wait_for_function(f"document.querySelectorAll('#blender-board .cell').length === {n * n} && document.querySelector('#blender-steps').dataset.cell")


def test_the_instrument_drag_edit_export_and_share(players, server, browser):
    ada = players("Blender")
    page = ada.page
    open_instrument(page)
    assert page.locator("#lobby").is_hidden()
    assert page.locator("#blender-steps .drum").count() == 9 and page.locator("#blender-steps i").count() == 9 * STEPS
    assert page.locator(".blender-corner").count() == 4
    assert page.input_value("#blender-tempo") == "120"
    assert puck(page) == (5, 5)

    # a drag across the board: the beat heard changes, and the step grid with it
    path = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 9), (10, 10), (10, 9), (10, 8)]
    shown = mouse_drag_cells(page, path)
    assert puck(page) == (10, 8)
    assert len(set(shown)) >= 4, "the step grid should change as the puck crosses the grid"
    page.wait_for_selector("#blender-play[aria-pressed=true]")
    page.wait_for_selector("#blender-steps i.now")  # the beat under the puck loops: its playhead moves
    assert page.inner_text("#blender-cell") == "K9"

    # the tempo, as a person sets it: the slider's keys
    page.focus("#blender-tempo")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#blender-tempo-value") == "126"

    # edit the top-left corner: a low tom on step 3; the corner's cell plays the edit after the re-blend
    before = click_cell(page, 0, 0)
    page.locator(".blender-corner[data-corner='0'] button[data-act=edit]").click()
    page.wait_for_selector("#blender-editor:not([hidden])")
    assert steps_shown(page, "#blender-editor-steps") == before
    tom = DRUM_CLASSES.index(next(d for d in DRUM_CLASSES if d.value == "low_tom"))
    cell = f"#blender-editor-steps i[data-drum='{tom}'][data-step='3']"
    was_on = "on" in (page.get_attribute(cell, "class") or "")
    with page.expect_response(lambda r: r.url.endswith("/api/games/blend/grid") and r.request.method == "POST") as reblend:
        page.click(cell)
    assert reblend.value.status == 200
    edited = page.wait_for_function(f"document.querySelector('#blender-steps').dataset.cell === '0,0' && document.querySelector(\"{cell}\").classList.contains('on') === {str(not was_on).lower()}")
    assert edited
    page.wait_for_function(f"document.querySelectorAll('#blender-steps i')[{tom * STEPS + 3}].classList.contains('on') === {str(not was_on).lower()}")
    after = steps_shown(page)
    assert after != before and sum(a != b for a, b in zip(after, before)) == 1  # exactly the one hit: the corner is the edit
    page.wait_for_timeout(300)  # the puck's slide ends
    ada.shot("blend-instrument")  # the corner's editor open beside the board
    page.click("#blender-editor-done")
    page.wait_for_selector("#blender-editor", state="hidden")

    # export the beat under the puck: a MIDI file of its 2 bars, its hits the step grid's
    with page.expect_download() as download:
        page.click("#blender-export-beat")
    midi = read_midi(download.value.path())
    assert download.value.suggested_filename == "beat-A1.mid"
    assert (midi.bars, midi.tempo) == (2, 126)
    assert {(h.step, h.drum.value) for h in midi.drums} == hits_shown(page)

    # draw a path, play it, export it: one beat per cell passed, in order
    page.click("#blender-draw")
    page.wait_for_selector("#blender-draw[aria-pressed=true]")
    drawn = [(2, 2), (3, 2), (4, 2), (4, 3), (4, 4)]
    mouse_drag_cells(page, drawn)
    assert page.get_attribute("#blender-board", "data-path") == str(len(drawn))
    assert page.locator("#blender-board .cell.on-path").count() == len(drawn)
    page.wait_for_selector("#blender-play[aria-pressed=true]")  # the path plays, bar by bar
    with page.expect_download() as download:
        page.click("#blender-export-path")
    path_midi = read_midi(download.value.path())
    assert path_midi.bars == 2 * len(drawn)

    # share: the link rebuilds the same grid in a new page
    page.click("#blender-share")
    page.wait_for_selector("#blender-link:not([hidden])")
    link = page.input_value("#blender-link")
    assert "/blend#c=" in link and "n=11" in link and "t=126" in link
    assert page.evaluate("location.href") == link
    corners = [click_cell(page, x, y) for x, y in ((0, 0), (10, 0), (0, 10), (10, 10))]
    middle = click_cell(page, 5, 5)
    fresh = browser.new_context(**DESKTOP)  # another person's browser: no name, no connection
    other = fresh.new_page()
    errors = []
    other.on("pageerror", lambda e: errors.append(str(e)))
    other.on("console", lambda m: m.type == "error" and errors.append(m.text))
    other.goto(link)
    wait_for_board(other)
    assert other.input_value("#blender-tempo") == "126"
    assert [click_cell(other, x, y) for x, y in ((0, 0), (10, 0), (0, 10), (10, 10))] == corners
    assert corners[0] == after  # the edited corner travelled in the link
    assert click_cell(other, 5, 5) == middle  # the same blend between them
    other.click("#blender-lobby")
    other.wait_for_selector("#lobby:not([hidden])")
    assert other.evaluate("location.href") == server.url + "/"
    other.go_back()  # back to the instrument
    wait_for_board(other)
    fresh.close()
    assert errors == []


def beat_drawn(beat: list[int]) -> str:
    """A beat's hit masks as steps_shown draws them: a row per drum (bit d), a column per step."""
    return "".join("1" if mask >> d & 1 else "0" for d in range(len(DRUM_CLASSES)) for mask in beat)


def reblended(page, act) -> None:
    """Do `act`, which asks the server for the grid again; wait for the board drawn from it."""
    with page.expect_response(lambda r: r.url.endswith("/api/games/blend/grid") and r.request.method == "POST") as grid:
        act()
    assert grid.value.status == 200
    page.wait_for_selector("#blender:not(.busy)")


def test_the_instrument_corners_from_presets_and_samples_and_the_grid_resized(players):
    """A preset picked for a corner is that corner's beat; "Sample new" changes only its own
    corner; a smaller grid keeps the corners; another meter samples a grid in it."""
    page = players("Picker").page
    open_instrument(page)
    corners = {xy: click_cell(page, *xy) for xy in ((0, 0), (10, 0), (0, 10), (10, 10))}
    fetched = page.evaluate("fetch('/api/games/blend/presets', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{}'}).then((r) => r.json())")
    presets = [p for p in fetched["presets"] if p["meter"] == "4/4"]
    picked = next(i for i, p in enumerate(presets) if beat_drawn(p["beat"]) != corners[(10, 0)])

    top_right = page.locator(".blender-corner[data-corner='1'] select")
    reblended(page, lambda: top_right.select_option(str(picked)))
    assert click_cell(page, 10, 0) == beat_drawn(presets[picked]["beat"])  # the corner is the preset, exactly
    assert page.locator(".blender-corner[data-corner='1'] select").input_value() == str(picked)  # and says so
    assert click_cell(page, 0, 0) == corners[(0, 0)]
    corners[(10, 0)] = beat_drawn(presets[picked]["beat"])

    page.wait_for_timeout(400)  # a person reads the corners before the next click
    with page.expect_response(lambda r: r.url.endswith("/api/games/blend/grid") and r.request.method == "POST" and r.request.post_data_json.get("corners")) as grid:
        page.locator(".blender-corner[data-corner='3'] button[data-act=sample]").click()
    assert grid.value.status == 200
    page.wait_for_selector("#blender:not(.busy)")
    now = {xy: click_cell(page, *xy) for xy in corners}
    assert now[(10, 10)] != corners[(10, 10)]  # a new bottom-right beat from the drum model
    assert [now[xy] for xy in ((0, 0), (10, 0), (0, 10))] == [corners[xy] for xy in ((0, 0), (10, 0), (0, 10))]

    reblended(page, lambda: page.select_option("#blender-n", "7"))
    wait_for_board(page, 7)
    assert [click_cell(page, *xy) for xy in ((0, 0), (6, 0), (0, 6), (6, 6))] == [now[xy] for xy in ((0, 0), (10, 0), (0, 10), (10, 10))]

    reblended(page, lambda: page.select_option("#blender-meter", "6/8"))
    wait_for_board(page, 7)
    assert page.locator("#blender-steps i").count() == len(DRUM_CLASSES) * 24  # 2 bars of 6/8 in 16ths
    assert page.get_attribute("#blender-play", "aria-pressed") == "true"  # playing since the first click on a cell
    page.wait_for_selector("#blender-steps i.now")  # and on, in the new meter
    page.click("#blender-play")
    page.wait_for_selector("#blender-play[aria-pressed=false]")


def test_the_instrument_on_a_phone_by_touch(players):
    phone = players("Thumb", PHONE)
    page = phone.page
    page.locator("#blend-instrument").tap()
    page.wait_for_function("location.pathname === '/blend'")
    wait_for_board(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    board = page.locator("#blender-board").bounding_box()
    assert board["x"] >= 0 and board["x"] + board["width"] <= 390 and board["width"] >= 300
    for button in ("#blender-play", "#blender-export-beat", "#blender-share"):
        box = page.locator(button).bounding_box()
        assert box["x"] + box["width"] <= 390 and box["height"] >= 28
    cdp = page.context.new_cdp_session(page)
    before = steps_shown(page)
    touch_drag(page, cdp, [cell_centre(page, x, y) for x, y in [(5, 5), (4, 4), (3, 3), (2, 2), (1, 1), (0, 0)]], PAUSE_MS)
    assert puck(page) == (0, 0)
    assert steps_shown(page) != before
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.shot("blend-instrument-phone", full_page=True)
