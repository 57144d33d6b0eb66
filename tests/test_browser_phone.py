"""The page on a phone (390×844, touch only): it fits the screen, and a Run level is played with
the on-screen buttons, held and tapped by touch at human timing, to its goal. (Sort by touch:
tests/test_browser_sort_input.py.)"""

from __future__ import annotations

from .browser import PHONE, TouchButtons, human_plan, press_at_ticks

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)


def test_run_level_by_touch_on_a_phone(players):
    phone = players("Thumbs", PHONE)
    page = phone.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#run-solo").tap()
    phone.start_run()
    assert page.is_visible("#run-touch") and page.evaluate("document.documentElement.scrollWidth") <= 390
    view = page.evaluate("window.arcade.round")
    plan = human_plan(view, 0)  # during the count-in
    page.wait_for_function("window.arcade.runTick() >= -100")  # the count-in: 2 s before tick 0
    phone.shot("run-phone")
    fingers = TouchButtons(page)
    late = press_at_ticks(page, plan, fingers)
    page.wait_for_selector("#result:not([hidden])", timeout=90_000)
    result = page.evaluate("window.arcade.round.result")
    assert page.evaluate("window.arcade.refused") == []
    if result["lanes"][0]["status"] != "goal":  # what the page stamped, against the plan, for the report
        stored = page.request.get(page.evaluate("location.origin") + f"/api/rounds/{view['round_id']}").json()
        sent = [(i["tick"], i["key"], i["down"]) for move in stored["moves"] for i in move["payload"]["inputs"]]
        off = [(planned, stamped) for planned, stamped in zip(plan, sent) if planned[1:] != stamped[1:] or stamped[0] - planned[0] > 2]
        late = f"{late}; {len(plan)} planned, {len(sent)} stamped; first stamped apart from the plan (planned, stamped): {off[:3]}"
    assert result["lanes"][0]["status"] == "goal", (result["lanes"][0], f"latest event {late} ticks late")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
