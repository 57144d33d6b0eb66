"""Players in Debian's headless Chromium, driven by Playwright, for the browser tests: one page per
player (its own storage and token), its console and page errors collected, and the moves a person
makes (clicks, keys, touches) written once for every test that plays through the page."""

from __future__ import annotations

import time
from pathlib import Path

from game_server.games.run.physics import Lane, Platform

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
DESKTOP = {"viewport": {"width": 1100, "height": 860}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


class Page:
    """One player's browser: its own context (storage, token), its console watched for errors."""

    def __init__(self, browser, server, name: str, device: dict = DESKTOP):
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"{e.name}: {e.message}"))
        self.page.goto(server.url + "/")
        self.page.fill("#name", name)
        self.page.click("#name-form button")
        self.page.wait_for_selector("#status[data-state=connected]")

    def shot(self, name: str, full_page: bool = False) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    def place_all(self) -> None:
        """Click each tray clip, then the first free slot, until the tray is empty."""
        page = self.page
        while page.locator("#tray .clip").count():
            if not page.locator("#tray .clip.selected").count():  # a click on a selected clip unselects it
                page.locator("#tray .clip").first.click()
            page.wait_for_selector("#tray .clip.selected")
            before = page.locator("#tray .clip").count()
            page.locator("#slots .slot:not(:has(.clip)):not(.fixed)").first.click()
            page.wait_for_function(f"document.querySelectorAll('#tray .clip').length < {before}")

    def place(self, clip: str, slot: int, tap: bool = False) -> None:
        """Select a tray clip (which plays it), then the slot: by mouse clicks, or by taps."""
        page = self.page
        card, target = page.locator(f"#tray .clip[data-clip='{clip}']"), page.locator(f"#slots .slot[data-slot='{slot}']")
        (card.tap if tap else card.click)()
        page.wait_for_selector(f"#tray .clip.selected[data-clip='{clip}']")
        (target.tap if tap else target.click)()
        page.wait_for_selector(f"#slots .slot[data-slot='{slot}'] .clip[data-clip='{clip}']")

    def start_run(self) -> None:
        """After "Play alone" on Run: read the first-play explanation if it is shown, then wait
        for the level (the count-in has begun)."""
        self.page.wait_for_selector("#run:not([hidden])")
        if self.page.is_visible("#run-help-start"):
            self.page.click("#run-help-start")
        self.page.wait_for_function("window.arcade.round && window.arcade.round.game === 'run' && !window.arcade.round.result")

    def take_home(self) -> dict[str, str]:
        """On a result screen: its download links (one shared row, kit.js's `downloadLinks`) must
        point at the round that just ended; each is fetched as the browser would. Returns
        {label: the answer's media type, or its status when not 200}."""
        round_id = self.page.evaluate("window.arcade.round.round_id")
        links = self.page.eval_on_selector_all("#result-details .downloads a[download]", "links => links.map(a => [a.textContent, a.getAttribute('href')])")
        assert [href for _, href in links] == [f"/api/rounds/{round_id}/piece.{ext}" for ext in ("mid", "wav", "ogg")], links
        fetch = "href => fetch(href).then(r => r.ok ? r.headers.get('content-type') : String(r.status))"
        return {label: self.page.evaluate(fetch, href) for label, href in links}

    def join(self, host: Page) -> None:
        """Join the co-op room `host` has just made, by its code; the host sees the second seat."""
        code = host.page.wait_for_selector("#room-code:not(:empty)").inner_text()
        self.page.fill("#join-code", code)
        self.page.click("#join-form button")
        host.page.wait_for_selector("#room-seats li:nth-child(2)")

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], f"errors in the browser console: {self.errors}"


def lane_of(public_lane: dict, tempo: int) -> Lane:
    """A lane of a round's view, for the server's physics."""
    return Lane(tuple(Platform(*p) for p in public_lane["platforms"]), public_lane["goal"], public_lane["start_x"], tempo)


def press_at_ticks(page, inputs: list[tuple[int, str, bool]], act) -> int:
    """Press and release keys (`act(key, down)`: real key events, or fingers on the touch
    buttons) when the page's round clock reaches each input's tick, as a person following the
    screen would: the page's clock is read again before each event (the audio clock a loaded
    machine slows is the one the page draws and stamps by), and each event is late by whatever
    Playwright takes to deliver it. Returns the latest an event went, in ticks."""
    latest = 0
    for tick, key, down in inputs:
        while (now := page.evaluate("window.arcade.runTick()")) < tick:
            time.sleep(max(0.002, (tick - now - 1) / 60))
        latest = max(latest, now - tick)
        act(key, down)
    return latest


def arrow_keys(page):
    """`act` for press_at_ticks: the arrow keys, as a keyboard sends them."""
    names = {"left": "ArrowLeft", "right": "ArrowRight", "jump": "ArrowUp"}
    return lambda key, down: (page.keyboard.down if down else page.keyboard.up)(names[key])


class TouchButtons:
    """`act` for press_at_ticks: fingers held on Run's on-screen buttons, several at once (a thumb
    on → while the other taps Jump), sent as the touchscreen sends them (CDP touch events)."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.down: dict[str, dict] = {}
        self.at = {}
        for i, key in enumerate(("left", "right", "jump")):
            box = page.locator(f"#run-touch button[data-key='{key}']").bounding_box()
            self.at[key] = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2, "id": i}

    def __call__(self, key: str, down: bool) -> None:
        if down:
            self.down[key] = self.at[key]
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": list(self.down.values())})
        elif key in self.down:  # Chromium lifts the points a touchEnd lists, and only those
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": [self.down.pop(key)]})


def human_plan(view: dict, lane: int, sigma_ms: float = 35) -> list[tuple[int, str, bool]]:
    """The human-model bot's inputs for a lane of a round's view (run_bot.play_human: every key
    event off by a random error of σ ms): the first seed whose run reaches the goal even with
    every input up to four ticks later still, looked for in the first five; else the first of 20
    that does up to two. Events reach the page late, never early: a page on a loaded 2-core
    machine stamped touches 0-3 ticks after the test sent them (a plan that allowed two fell,
    1 run in 4)."""
    from game_server.games.run import bot as run_bot
    from game_server.games.run import physics as run_physics

    level = lane_of(view["run"]["lanes"][lane], view["run"]["tempo"])

    def reaches_goal(inputs) -> bool:
        *_, (_, state, _) = run_physics.simulate(level, inputs, 20_000)
        return state.status == run_physics.GOAL

    def most_late(inputs, up_to: int) -> int:
        """The most ticks late (at most `up_to`) every input may come with the goal still
        reached; -1 if it is not reached on time."""
        late = -1
        while late < up_to and reaches_goal([(tick + late + 1, key, down) for tick, key, down in inputs]):
            late += 1
        return late

    fallback = None
    for seed in range(20):
        inputs = run_bot.play_human(level, sigma_ms, seed).inputs
        tolerated = most_late(inputs, 4 if seed < 5 else 2)
        if tolerated == 4:
            return inputs
        fallback = fallback or (inputs if tolerated >= 2 else None)
        if fallback is not None and seed >= 4:
            return fallback
    raise AssertionError("the human-model bot finished none of 20 tries: the level should not have been served")


def touch_drag(page, cdp, points: list[tuple[float, float]], pause_ms: int) -> None:
    """A finger down on the first point, slid over the others in small steps (CDP touch events:
    the page sees pointer events of type touch), resting `pause_ms` on each, lifted."""
    x0, y0 = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0, "id": 1}]})
    for x1, y1 in points[1:]:
        for i in range(1, 5):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * i / 4, "y": y0 + (y1 - y0) * i / 4, "id": 1}]})
        x0, y0 = x1, y1
        page.wait_for_timeout(pause_ms)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def mouse_drag(page, points: list[tuple[float, float]], pause_ms: int, read) -> list:
    """Press on the first point, move over the others in small steps, resting `pause_ms` on each
    as a hand does, and release; returns `read()` on each point (what the page shows there)."""
    mouse = page.mouse
    mouse.move(*points[0])
    mouse.down()
    page.wait_for_timeout(pause_ms)
    shown = [read()]
    for point in points[1:]:
        mouse.move(*point, steps=5)
        page.wait_for_timeout(pause_ms)
        shown.append(read())
    mouse.up()
    return shown

