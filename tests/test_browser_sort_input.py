"""Sort without a mouse: a solo round played with the keyboard alone (Tab, the arrow keys, Enter,
Space, Delete, Escape) to its result, reading what a screen reader reads (the buttons' labels, the
live status line); on a phone, clips dragged with a finger (touch events, as the touchscreen sends
them) into slots, between slots and back to the tray, and tapped; in co-op, the partner's move
marked on the board and said in the status line. No page may log an error (tests/browser.py)."""

from __future__ import annotations

import re

from .browser import PHONE

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

FOCUSED = "document.activeElement"


def focused(page, attribute: str = "aria-label"):
    return page.evaluate(f"{FOCUSED} && {FOCUSED}.getAttribute({attribute!r})")


def focused_matches(page, selector: str) -> bool:
    return page.evaluate(f"!!{FOCUSED} && {FOCUSED}.matches({selector!r})")


def tab_to(page, selector: str, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        if focused_matches(page, selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def status(page) -> str:
    return page.inner_text("#sort-status").strip()


def test_a_solo_sort_round_by_the_keyboard_alone(players):
    ada = players("Keys")
    page = ada.page
    page.click("#sort-solo")  # the last mouse click
    page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    assert page.get_attribute("#sort-status", "aria-live") == "polite"
    n = page.locator("#slots .slot").count()
    assert n == 4 and page.locator("#tray .clip").count() == 4

    tab_to(page, "#tray .clip")
    assert re.fullmatch(r"Clip \d+ in the tray", focused(page))
    first = focused(page, "data-clip")
    number = re.search(r"\d+", focused(page)).group()
    page.keyboard.press("Enter")  # select and listen
    page.wait_for_selector(f"#tray .clip.selected[data-clip='{first}']")
    page.wait_for_selector("#sort-info:has-text('1 listens')")
    assert focused(page) == f"Clip {number} in the tray, selected"  # the focus came back after the redraw
    assert status(page).startswith(f"Clip {number} selected")
    page.keyboard.press("Escape")
    page.wait_for_selector("#tray .clip.selected", state="detached")
    assert status(page) == "Selection cleared"
    page.keyboard.press(" ")  # Space selects (and listens) too
    page.wait_for_selector("#sort-info:has-text('2 listens')")
    page.wait_for_selector(f"#tray .clip.selected[data-clip='{first}']")

    page.keyboard.press("ArrowUp")  # to the first free slot
    assert focused(page) == f"Slot 1 of {n}, empty"
    page.keyboard.press("ArrowRight")
    assert focused(page) == f"Slot 2 of {n}, empty"
    page.keyboard.press("Enter")  # placed in slot 2
    page.wait_for_selector(f"#slots .slot[data-slot='1'] .clip[data-clip='{first}']")
    assert focused(page) == f"Slot 2 of {n}: clip {number}"  # the slot just filled keeps the focus
    page.wait_for_selector(f"#sort-status:has-text('Clip {number} placed in slot 2')")

    page.keyboard.press("Delete")  # back to the tray
    page.wait_for_selector(f"#tray .clip[data-clip='{first}']")
    assert focused(page) == f"Slot 2 of {n}, empty"
    page.wait_for_selector(f"#sort-status:has-text('Clip {number} back in the tray')")

    # every clip into the first free slot: ↓ to the tray, Enter, ↑ to the slots, Enter
    for placed in range(n):
        page.keyboard.press("ArrowDown")
        assert focused_matches(page, "#tray .clip:first-child")
        clip = focused(page, "data-clip")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#tray .clip.selected[data-clip='{clip}']")
        page.keyboard.press("ArrowUp")
        assert focused(page) == f"Slot {placed + 1} of {n}, empty"
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#slots .slot[data-slot='{placed}'] .clip[data-clip='{clip}']")
        assert focused_matches(page, f"#slots .slot[data-slot='{placed}']")
    assert page.locator("#tray .clip").count() == 0

    # a swap: Enter on slot 1 selects its clip, → to slot 2, Enter swaps them
    order = page.evaluate("[...document.querySelectorAll('#slots .slot')].map((s) => s.querySelector('.clip').dataset.clip)")
    page.keyboard.press("Home")
    assert focused(page).startswith(f"Slot 1 of {n}: clip ")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#slots .slot[data-slot='0'] .clip.selected[data-clip='{order[0]}']")
    assert focused(page).endswith(", selected")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#slots .slot[data-slot='0'] .clip[data-clip='{order[1]}']")
    page.wait_for_selector(f"#slots .slot[data-slot='1'] .clip[data-clip='{order[0]}']")
    page.wait_for_selector("#sort-status:has-text('Slots 1 and 2 swapped')")
    assert focused_matches(page, "#slots .slot[data-slot='1']")
    assert page.is_visible("#sort-keys")  # the keys are shown while the keyboard is in use
    ada.shot("sort-keyboard")

    tab_to(page, "#sort-submit", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden])")
    assert re.fullmatch(r"\d+", page.inner_text("#result-score"))
    assert page.evaluate("window.arcade.refused") == []


def drag(page, cdp, source, target, steps: int = 8) -> None:
    """A finger on `source`, moved in steps onto `target`, lifted (CDP touch events: the page
    sees them as pointer events of type touch)."""
    source.scroll_into_view_if_needed()
    a, b = source.bounding_box(), target.bounding_box()
    x0, y0 = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    x1, y1 = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0, "id": 1}]})
    for i in range(1, steps + 1):
        t = i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * t, "y": y0 + (y1 - y0) * t, "id": 1}]})
        if i == steps // 2:  # halfway: a copy of the clip follows the finger
            assert page.locator(".drag-ghost").count() == 1
    assert page.locator("#slots .slot.target, #tray.target").count() == 1  # what is under the finger is marked
    # the finger settles on the target before it lifts, as a person's does: lifted at full speed,
    # Chrome takes the drag for a fling, and a tap right after it stops the fling (no click)
    page.wait_for_timeout(120)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x1, "y": y1 + 1, "id": 1}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert page.locator(".drag-ghost").count() == 0


def test_sort_by_touch_on_a_phone(players):
    phone = players("Finger", PHONE)
    page = phone.page
    page.locator("#sort-solo").tap()
    page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    slots = page.locator("#slots .slot")
    boxes = [slots.nth(i).bounding_box() for i in range(slots.count())]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
    assert page.evaluate("getComputedStyle(document.querySelector('#tray .clip')).touchAction") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('#slots .slot')).touchAction") == "auto"  # the page still scrolls there
    cdp = page.context.new_cdp_session(page)

    clip = page.locator("#tray .clip").first.get_attribute("data-clip")
    drag(page, cdp, page.locator(f"#tray .clip[data-clip='{clip}']"), slots.nth(0))  # tray → slot 1: place
    page.wait_for_selector(f"#slots .slot[data-slot='0'] .clip[data-clip='{clip}']")
    assert page.locator(f"#tray .clip[data-clip='{clip}']").count() == 0
    page.wait_for_selector("#sort-status:has-text('placed in slot 1')")
    assert page.inner_text("#sort-info").endswith("0 listens")  # a drag is no listen

    drag(page, cdp, page.locator(f"#slots .clip[data-clip='{clip}']"), slots.nth(2))  # slot 1 → slot 3: swap
    page.wait_for_selector(f"#slots .slot[data-slot='2'] .clip[data-clip='{clip}']")
    assert page.locator("#slots .slot[data-slot='0'] .clip").count() == 0
    page.wait_for_selector("#sort-status:has-text('Slots 1 and 3 swapped')")

    drag(page, cdp, page.locator(f"#slots .clip[data-clip='{clip}']"), page.locator("#tray"))  # back to the tray
    page.wait_for_selector(f"#tray .clip[data-clip='{clip}']")
    page.wait_for_selector("#sort-status:has-text('back in the tray')")

    phone.place(clip, 1, tap=True)  # a tap still selects and listens; a tap on a slot places
    page.wait_for_selector("#sort-info:has-text('1 listens')")
    phone.shot("sort-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    while page.locator("#tray .clip").count():  # the rest by taps, to the result
        free = page.locator("#slots .slot:not(:has(.clip)):not(.fixed)").first.get_attribute("data-slot")
        phone.place(page.locator("#tray .clip").first.get_attribute("data-clip"), int(free), tap=True)
    page.locator("#sort-submit").tap()
    page.wait_for_selector("#result:not([hidden]) #result-mine .clip")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("window.arcade.refused") == []


def test_the_partners_move_is_marked_and_said(players):
    host, guest = players("Nadia"), players("Omar")
    host.page.click("#sort-coop")
    guest.join(host)
    host.page.click("#start-round")
    for p in (host, guest):
        p.page.wait_for_selector("#sort:not([hidden]) #tray .clip")
    clip = host.page.locator("#tray .clip").first.get_attribute("data-clip")
    host.place(clip, 3)
    mark = guest.page.wait_for_selector(f"#slots .slot[data-slot='3'] .clip.partner-moved[data-clip='{clip}']")
    assert mark.inner_text().strip().endswith("Nadia")  # the partner's name on the clip
    number = guest.page.evaluate(f"document.querySelector('#slots .clip[data-clip=\"{clip}\"] .num').textContent")
    guest.page.wait_for_selector(f"#sort-status:has-text('Nadia placed clip {number} in slot 4')")
    assert "placed in slot 4" in host.page.inner_text("#sort-status")
    guest.page.wait_for_selector(".clip.partner-moved", state="detached", timeout=5000)  # the mark fades after ~2 s
