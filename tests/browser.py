"""Players in Debian's headless Chromium, driven by Playwright, for the browser tests: one page per
player (its own storage and token), its console and page errors collected, and the moves a person
makes (clicks, keys, touches) written once for every test that plays through the page."""

from __future__ import annotations

import random
import time
from pathlib import Path

from game_server.games.run.physics import Lane, Platform

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
JITTERS = 12  # draws of each input's own lateness a Run plan must survive (human_plan)
PLAN_SEEDS = 8  # the human-model bot's tries human_plan looks at: a plan must be ready within the count-in
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
    event off by a random error of σ ms), sent open-loop: the page stamps each event 0-3 ticks
    after the test sends it (a loaded 2-core machine), never early, and unlike the bot nobody
    re-plans after a late one. So of the first PLAN_SEEDS seeds the plan is the first that still
    reaches the goal with every input up to four ticks late and with each input late by its own
    0-2 ticks (JITTERS fixed draws); else, of those that survive two ticks late alike, the one
    that survives the most draws. A plan checked against one common delay only once fell when a
    single press came one tick later than the others (a 4-tick run to stop on a note ran 3).
    Takes up to about a second: call it before the count-in ends."""
    from game_server.games.run import bot as run_bot
    from game_server.games.run import physics as run_physics

    level = lane_of(view["run"]["lanes"][lane], view["run"]["tempo"])
    draws = random.Random(0)
    jitters = [[draws.randint(0, 2) for _ in range(400)] for _ in range(JITTERS)]

    def reaches_goal(inputs) -> bool:
        for _, state, _ in run_physics.simulate(level, inputs, 20_000):
            if state.status != run_physics.RUNNING:  # over: no need to play the rest of the ticks out
                return state.status == run_physics.GOAL
        return False

    def robustness(inputs) -> tuple[int, int]:
        """(every input late alike: the most ticks, up to 4, that still reach the goal, -1 for
        none; how many of the JITTERS draws of each input's own lateness still reach it)."""
        late = -1
        while late < 4 and reaches_goal([(tick + late + 1, key, down) for tick, key, down in inputs]):
            late += 1
        return late, sum(reaches_goal(stamped(inputs, d)) for d in jitters)

    def stamped(inputs, delays) -> list[tuple[int, str, bool]]:
        """Each input late by its own delay, in the order sent (the page's stamps never go back)."""
        out, last = [], 0
        for i, (tick, key, down) in enumerate(inputs):
            last = max(last, tick + delays[i % len(delays)])
            out.append((last, key, down))
        return out

    best, best_key = None, None
    planner = run_bot.HumanPlanner(level)  # shared by the tries: it only remembers what the physics does
    for seed in range(PLAN_SEEDS):
        inputs = run_bot.play_human(level, sigma_ms, seed, planner).inputs
        late, survived = robustness(inputs)
        if (late, survived) == (4, JITTERS):
            return inputs
        key = (late >= 2, late >= 0, survived, late)  # a little lateness survived first
        if best_key is None or key > best_key:
            best, best_key = inputs, key
    if not best_key[1]:
        raise AssertionError(f"the human-model bot finished none of {PLAN_SEEDS} tries: the level should not have been served")
    return best


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

